// The logic behind the "Export audit pack" and "Compute drift" screens: progress in words and
// percent, sizes, and the per-column bars of the drift chart. Pure functions, unit-tested.

import type { DriftColumnView } from './bindings/DriftColumnView';
import type { DriftProgress } from './bindings/DriftProgress';
import type { PackProgress } from './bindings/PackProgress';

/** The steps of writing a pack, in words (the pack crate names them; `collecting` is the core's). */
const PACK_STAGES: Record<string, string> = {
  collecting: 'Collecting the records in scope',
  tables: 'Writing the tables (CSV and JSON)',
  'audit log': 'Extracting the audit log',
  report: 'Typesetting the report',
  manifest: 'Hashing the files and signing the manifest',
  done: 'Done',
};

export function packStageLabel(progress: PackProgress): string {
  return PACK_STAGES[progress.stage] ?? progress.stage;
}

/** Reading both files is most of the work; computing the columns is the last tenth. */
export function driftPercent(p: DriftProgress): number {
  if (p.columns_total > 0 && p.columns_done > 0) {
    return Math.min(100, 90 + Math.round((10 * p.columns_done) / p.columns_total));
  }
  if (p.total_bytes <= 0) {
    return 0;
  }
  return Math.min(90, Math.round((90 * p.bytes_read) / p.total_bytes));
}

export function driftStage(p: DriftProgress): string {
  if (p.columns_total > 0 && p.columns_done > 0) {
    return `Computing ${p.columns_done} of ${p.columns_total} columns`;
  }
  return `Reading the files: ${formatBytes(p.bytes_read)} of ${formatBytes(p.total_bytes)}`;
}

/** 512 B, 14.2 kB, 3.4 MB (decimal units, as file managers show them). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) {
    return `${bytes} B`;
  }
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** The period of a pack in words. */
export function periodLabel(from: string | null, to: string | null): string {
  if (from && to) {
    return `${from} to ${to}`;
  }
  if (from) {
    return `from ${from}`;
  }
  if (to) {
    return `up to ${to}`;
  }
  return 'entire history';
}

/** A drift score for a table: p-values and small distances in scientific notation when tiny. */
export function formatScore(value: number | null): string {
  if (value === null || !Number.isFinite(value)) {
    return '–';
  }
  if (value === 0) {
    return '0';
  }
  const abs = Math.abs(value);
  if (abs < 1e-4 || abs >= 1e6) {
    return value.toExponential(3);
  }
  return String(Number(value.toPrecision(4)));
}

/** A share as a percentage: 0.35 → "35%". */
export function formatShare(share: number): string {
  return `${Number((share * 100).toFixed(1))}%`;
}

/** p-values below this are drawn at it on the chart's logarithmic axis. */
export const PVALUE_FLOOR = 1e-12;

export interface ScoreBars {
  /** `distance`: drift when the score reaches the threshold; `pvalue`: when it falls below. */
  kind: 'distance' | 'pvalue';
  labels: string[];
  /** The bar heights (p-values clamped to `PVALUE_FLOOR`). */
  values: number[];
  /** The exact scores, for tooltips. */
  scores: number[];
  thresholds: number[];
  drifted: boolean[];
  methods: string[];
}

/**
 * The columns with a score, split into distances and p-values (they need different axes: a
 * distance drifts above its line, a p-value below it, on a log scale).
 */
export function scoreBars(columns: readonly DriftColumnView[]): ScoreBars[] {
  const groups: ScoreBars[] = [];
  for (const kind of ['distance', 'pvalue'] as const) {
    const of = columns.filter((c) => c.score !== null && c.pvalue === (kind === 'pvalue'));
    if (of.length === 0) {
      continue;
    }
    groups.push({
      kind,
      labels: of.map((c) => c.name),
      values: of.map((c) => (kind === 'pvalue' ? Math.max(c.score as number, PVALUE_FLOOR) : (c.score as number))),
      scores: of.map((c) => c.score as number),
      thresholds: of.map((c) => c.threshold),
      drifted: of.map((c) => c.drifted),
      methods: of.map((c) => c.method),
    });
  }
  return groups;
}

/** The methods a person can ask for, with what they mean. */
export const DRIFT_METHODS: readonly { value: string; label: string }[] = [
  { value: 'auto', label: 'Automatic (Evidently’s choice per column)' },
  { value: 'psi', label: 'PSI (population stability index)' },
  { value: 'ks', label: 'Kolmogorov–Smirnov (numeric columns)' },
  { value: 'wasserstein', label: 'Wasserstein distance (numeric columns)' },
  { value: 'js', label: 'Jensen–Shannon distance' },
  { value: 'chisq', label: 'Chi-squared (categorical columns)' },
];

/** A new folder for a pack inside the folder the person chose: `<parent>/driftwarden-pack-<date>`. */
export function packFolderIn(parent: string, date: string): string {
  const windows = parent.includes('\\') && !parent.includes('/');
  const sep = windows ? '\\' : '/';
  const base = parent.endsWith(sep) ? parent.slice(0, -1) : parent;
  return `${base}${sep}driftwarden-pack-${date}`;
}
