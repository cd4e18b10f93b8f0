// The release gate as the approval form shows it: each item, what is missing, and where to fix it.

import type { GateItem } from './bindings/GateItem';
import type { ThresholdView } from './bindings/ThresholdView';

/** Where on the model page an item is fixed. */
export type GateFix = 'rights' | 'threshold' | 'expiry' | null;

export interface GateRow {
  item: string;
  label: string;
  ok: boolean;
  /** What is missing, in the core's words, or "in place". */
  text: string;
  fix: GateFix;
}

export function gateFix(item: string): GateFix {
  switch (item) {
    case 'threshold':
      return 'threshold';
    case 'alert_recipients':
    case 'validator':
    case 'rollback':
    case 'approver':
      return 'rights';
    case 'expiry':
      return 'expiry';
    default:
      return null;
  }
}

export function gateRows(items: readonly GateItem[]): GateRow[] {
  return items.map((g) => ({
    item: g.item,
    label: g.label,
    ok: g.ok,
    text: g.ok ? 'in place' : `Missing: ${g.detail ?? g.label.toLowerCase()}`,
    fix: g.ok ? null : gateFix(g.item),
  }));
}

/** "All 7 items are in place" or "2 of 7 items are missing". */
export function gateSummary(items: readonly GateItem[]): string {
  const missing = items.filter((g) => !g.ok).length;
  if (missing === 0) {
    return `All ${items.length} items are in place.`;
  }
  return `${missing} of ${items.length} ${items.length === 1 ? 'item is' : 'items are'} missing.`;
}

/** The items a `gate_refused` error lists, split out of its message ("…: missing a; b"). */
export function refusedItems(message: string): string[] {
  const at = message.indexOf('missing ');
  if (at < 0) {
    return [];
  }
  return message
    .slice(at + 'missing '.length)
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * The threshold set an approval signs: per metric, the proposed version when there is one (the
 * approval approves it), else the approved version in force.
 */
export function thresholdsToSign(thresholds: readonly ThresholdView[]): ThresholdView[] {
  const byMetric = new Map<string, ThresholdView>();
  for (const t of thresholds) {
    if (t.status !== 'proposed' && t.status !== 'approved') {
      continue;
    }
    const seen = byMetric.get(t.metric);
    const better =
      seen === undefined ||
      (t.status === 'proposed' && seen.status !== 'proposed') ||
      (t.status === seen.status && t.version > seen.version);
    if (better) {
      byMetric.set(t.metric, t);
    }
  }
  return [...byMetric.values()].sort((a, b) => a.metric.localeCompare(b.metric));
}

/** "psi: warn 0.1, breach 0.2 (above)". */
export function describeThreshold(t: Pick<ThresholdView, 'metric' | 'warn' | 'breach' | 'direction'>): string {
  const warn = t.warn === null ? '' : `warn ${t.warn}, `;
  return `${t.metric}: ${warn}breach ${t.breach} (${t.direction === 'above' ? 'values above breach' : 'values below breach'})`;
}
