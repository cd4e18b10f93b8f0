// The data behind a drift chart: one metric's measurements over time against the threshold in
// force (warn dashed, breach solid), with exception markers. The points come from the core's
// `drift_series`, already downsampled (each bucket's lowest and highest value) to about 2,000, so a
// chart never holds every measurement of a large registry. Pure functions, unit-tested.

import type { DriftSeries as CoreSeries } from './bindings/DriftSeries';
import type { ExceptionView } from './bindings/ExceptionView';
import type { ThresholdView } from './bindings/ThresholdView';

export interface Point {
  /** Milliseconds since the epoch. */
  x: number;
  y: number;
  /** The point's place in its series (a stable key). */
  key: number;
  exceptionId: number | null;
  evaluation: string;
}

export interface DriftSeries {
  metric: string;
  /** Measurements stored for the metric (the chart may show fewer: `downsampled`). */
  total: number;
  downsampled: boolean;
  points: Point[];
  /** Points that belong to an exception (markers). */
  exceptionPoints: Point[];
  /** The threshold shown: the approved version in force, else the latest proposed one. */
  threshold: ThresholdView | null;
  /** True when `threshold` is only proposed (not yet approved). */
  proposedOnly: boolean;
}

/** The threshold a metric is measured against: approved first, then the latest proposed. */
export function thresholdInForce(thresholds: readonly ThresholdView[], metric: string): ThresholdView | null {
  const of = thresholds.filter((t) => t.metric === metric);
  const approved = of.filter((t) => t.status === 'approved').sort((a, b) => b.version - a.version);
  if (approved.length > 0) {
    return approved[0];
  }
  const proposed = of.filter((t) => t.status === 'proposed').sort((a, b) => b.version - a.version);
  return proposed[0] ?? null;
}

/**
 * The metrics a model's page charts: those with a live (approved or proposed) threshold and those
 * an exception was opened on, sorted.
 */
export function metricsOf(thresholds: readonly ThresholdView[], exceptions: readonly ExceptionView[]): string[] {
  const set = new Set<string>();
  for (const t of thresholds) {
    if (t.status === 'approved' || t.status === 'proposed') {
      set.add(t.metric);
    }
  }
  for (const e of exceptions) {
    if (e.metric !== null) {
      set.add(e.metric);
    }
  }
  return [...set].sort();
}

/**
 * Which exception each breach point belongs to. The core's chart points carry no exception id, so
 * they are matched by time: a metric's breach exceptions, oldest first, each take the breaches
 * observed up to its last breach (an exception stays open and absorbs later breaches until it is
 * closed; the next breach opens the next one).
 */
export function exceptionOf(points: readonly { x: number; evaluation: string }[], exceptions: readonly ExceptionView[]): (number | null)[] {
  const spans = exceptions
    .filter((e) => e.kind === 'breach' && e.last_breach_at !== null)
    .map((e) => ({ id: e.id, until: new Date(e.last_breach_at ?? '').getTime() }))
    .filter((e) => Number.isFinite(e.until))
    .sort((a, b) => a.id - b.id);
  return points.map((p) => {
    if (p.evaluation !== 'breach') {
      return null;
    }
    return spans.find((e) => p.x <= e.until)?.id ?? null;
  });
}

/** A chart series from the core's (downsampled) series, the model's thresholds and exceptions. */
export function driftSeries(
  core: CoreSeries,
  thresholds: readonly ThresholdView[],
  exceptions: readonly ExceptionView[],
): DriftSeries {
  const metric = core.metric;
  const timed = core.points
    .map((p) => ({ x: new Date(p.observed_at).getTime(), y: p.value, evaluation: p.evaluation }))
    .filter((p) => Number.isFinite(p.x));
  const ids = exceptionOf(timed, exceptions.filter((e) => e.metric === metric));
  const points: Point[] = timed.map((p, i) => ({ ...p, key: i, exceptionId: ids[i] }));
  const threshold = thresholdInForce(thresholds, metric);
  return {
    metric,
    total: core.total,
    downsampled: core.downsampled,
    points,
    exceptionPoints: points.filter((p) => p.exceptionId !== null),
    threshold,
    proposedOnly: threshold !== null && threshold.status !== 'approved',
  };
}

/** The y range that shows every point and both threshold lines, with a little room. */
export function yRange(series: DriftSeries): { min: number; max: number } {
  const values = series.points.map((p) => p.y);
  if (series.threshold) {
    values.push(series.threshold.breach);
    if (series.threshold.warn !== null) {
      values.push(series.threshold.warn);
    }
  }
  if (values.length === 0) {
    return { min: 0, max: 1 };
  }
  let min = Math.min(...values);
  let max = Math.max(...values);
  if (min === max) {
    min -= Math.abs(min) * 0.1 || 1;
    max += Math.abs(max) * 0.1 || 1;
  }
  const pad = (max - min) * 0.1;
  return { min: min - pad, max: max + pad };
}

export interface Period {
  exceptionId: number;
  /** Milliseconds since the epoch: the first and last measurement in the exception. */
  from: number;
  to: number;
}

/** The span of each exception over time: from its first to its last measurement. */
export function exceptionPeriods(series: DriftSeries): Period[] {
  const byId = new Map<number, Period>();
  for (const p of series.exceptionPoints) {
    if (p.exceptionId === null) {
      continue;
    }
    const seen = byId.get(p.exceptionId);
    if (seen) {
      seen.from = Math.min(seen.from, p.x);
      seen.to = Math.max(seen.to, p.x);
    } else {
      byId.set(p.exceptionId, { exceptionId: p.exceptionId, from: p.x, to: p.x });
    }
  }
  return [...byId.values()].sort((a, b) => a.from - b.from);
}
