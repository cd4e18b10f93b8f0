import { describe, expect, test } from 'vitest';
import type { MeasurementView } from './bindings/MeasurementView';
import type { ThresholdView } from './bindings/ThresholdView';
import { driftSeries, exceptionPeriods, metricsOf, thresholdInForce, yRange } from './drift';

function m(id: number, metric: string, value: number, at: string, exception: number | null = null): MeasurementView {
  return {
    id,
    model_id: 1,
    metric,
    value,
    observed_at: at,
    segment: null,
    source: null,
    import_id: 1,
    evaluation: exception ? 'breach' : 'ok',
    threshold_id: 1,
    exception_id: exception,
  };
}

function t(id: number, metric: string, version: number, status: ThresholdView['status'], breach: number, warn: number | null): ThresholdView {
  return { id, model_id: 1, metric, version, breach, warn, direction: 'above', status, proposed_by: 'a@b.c', proposed_at: '2026-11-01T00:00:00Z' };
}

describe('drift series', () => {
  const ms = [
    m(2, 'psi', 0.3, '2026-11-03T00:00:00Z', 7),
    m(1, 'psi', 0.05, '2026-11-01T00:00:00Z'),
    m(3, 'ks', 0.1, '2026-11-02T00:00:00Z'),
  ];
  const ths = [t(1, 'psi', 1, 'approved', 0.2, 0.1), t(2, 'psi', 2, 'proposed', 0.25, 0.1), t(3, 'auc', 1, 'withdrawn', 0.7, null)];

  test('points are one metric, in time order, with exception markers', () => {
    const s = driftSeries('psi', ms, ths);
    expect(s.points.map((p) => p.measurementId)).toEqual([1, 2]);
    expect(s.exceptionPoints.map((p) => p.exceptionId)).toEqual([7]);
    expect(s.threshold?.id).toBe(1);
    expect(s.proposedOnly).toBe(false);
  });

  test('the approved version is in force; a proposed one only when none is approved', () => {
    expect(thresholdInForce(ths, 'psi')?.version).toBe(1);
    expect(thresholdInForce([t(9, 'x', 1, 'proposed', 1, null)], 'x')?.id).toBe(9);
    expect(thresholdInForce(ths, 'auc')).toBeNull();
  });

  test('metrics come from live thresholds and from measurements', () => {
    expect(metricsOf(ths, ms)).toEqual(['ks', 'psi']);
  });

  test('the y range shows every point and both lines', () => {
    const r = yRange(driftSeries('psi', ms, ths));
    expect(r.min).toBeLessThan(0.05);
    expect(r.max).toBeGreaterThan(0.3);
    expect(yRange(driftSeries('none', [], []))).toEqual({ min: 0, max: 1 });
  });

  test('exception periods span their measurements', () => {
    const s = driftSeries(
      'psi',
      [
        m(1, 'psi', 0.3, '2026-11-01T00:00:00Z', 4),
        m(2, 'psi', 0.1, '2026-11-02T00:00:00Z'),
        m(3, 'psi', 0.31, '2026-11-03T00:00:00Z', 4),
        m(4, 'psi', 0.4, '2026-11-05T00:00:00Z', 9),
      ],
      [],
    );
    expect(exceptionPeriods(s)).toEqual([
      { exceptionId: 4, from: Date.parse('2026-11-01T00:00:00Z'), to: Date.parse('2026-11-03T00:00:00Z') },
      { exceptionId: 9, from: Date.parse('2026-11-05T00:00:00Z'), to: Date.parse('2026-11-05T00:00:00Z') },
    ]);
  });
});
