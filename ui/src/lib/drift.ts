// The data behind a drift chart: one metric's measurements over time against the threshold in
// force (warn dashed, breach solid), with exception markers. Pure functions, unit-tested.

import type { MeasurementView } from './bindings/MeasurementView';
import type { ThresholdView } from './bindings/ThresholdView';

export interface Point {
  /** Milliseconds since the epoch. */
  x: number;
  y: number;
  measurementId: number;
  exceptionId: number | null;
  evaluation: string;
}

export interface DriftSeries {
  metric: string;
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

/** The metrics of a model: those with a threshold and those with measurements, sorted. */
export function metricsOf(
  thresholds: readonly ThresholdView[],
  measurements: readonly MeasurementView[],
): string[] {
  const set = new Set<string>();
  for (const t of thresholds) {
    if (t.status === 'approved' || t.status === 'proposed') {
      set.add(t.metric);
    }
  }
  for (const m of measurements) {
    set.add(m.metric);
  }
  return [...set].sort();
}

export function driftSeries(
  metric: string,
  measurements: readonly MeasurementView[],
  thresholds: readonly ThresholdView[],
): DriftSeries {
  const points: Point[] = measurements
    .filter((m) => m.metric === metric)
    .map((m) => ({
      x: new Date(m.observed_at).getTime(),
      y: m.value,
      measurementId: m.id,
      exceptionId: m.exception_id,
      evaluation: m.evaluation,
    }))
    .filter((p) => Number.isFinite(p.x))
    .sort((a, b) => a.x - b.x);
  const threshold = thresholdInForce(thresholds, metric);
  return {
    metric,
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
