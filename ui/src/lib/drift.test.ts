import { describe, expect, test } from 'vitest';
import type { DriftSeries as CoreSeries } from './bindings/DriftSeries';
import type { ExceptionView } from './bindings/ExceptionView';
import type { ThresholdView } from './bindings/ThresholdView';
import { driftSeries, exceptionOf, exceptionPeriods, metricsOf, thresholdInForce, yRange } from './drift';

function core(metric: string, points: [string, number, string][], total = points.length): CoreSeries {
  return {
    metric,
    total,
    downsampled: total > points.length,
    points: points.map(([observed_at, value, evaluation]) => ({ observed_at, value, evaluation })),
  };
}

function t(id: number, metric: string, version: number, status: ThresholdView['status'], breach: number, warn: number | null): ThresholdView {
  return { id, model_id: 1, metric, version, breach, warn, direction: 'above', status, proposed_by: 'a@b.c', proposed_at: '2026-11-01T00:00:00Z' };
}

/** An exception with the fields the chart reads (the rest are irrelevant to it). */
function ex(id: number, metric: string | null, lastBreachAt: string | null, kind: 'breach' | 'lapsed-approval' = 'breach'): ExceptionView {
  return { id, metric, kind, last_breach_at: lastBreachAt } as unknown as ExceptionView;
}

describe('drift series', () => {
  const psi = core(
    'psi',
    [
      ['2026-11-01T00:00:00Z', 0.05, 'ok'],
      ['2026-11-03T00:00:00Z', 0.3, 'breach'],
    ],
    5000,
  );
  const ths = [t(1, 'psi', 1, 'approved', 0.2, 0.1), t(2, 'psi', 2, 'proposed', 0.25, 0.1), t(3, 'auc', 1, 'withdrawn', 0.7, null)];

  test('points keep the core order, the totals and the exception markers', () => {
    const s = driftSeries(psi, ths, [ex(7, 'psi', '2026-11-03T00:00:00Z')]);
    expect(s.points.map((p) => [p.key, p.y])).toEqual([
      [0, 0.05],
      [1, 0.3],
    ]);
    expect(s.total).toBe(5000);
    expect(s.downsampled).toBe(true);
    expect(s.exceptionPoints.map((p) => p.exceptionId)).toEqual([7]);
    expect(s.threshold?.id).toBe(1);
    expect(s.proposedOnly).toBe(false);
  });

  test('the approved version is in force; a proposed one only when none is approved', () => {
    expect(thresholdInForce(ths, 'psi')?.version).toBe(1);
    expect(thresholdInForce([t(9, 'x', 1, 'proposed', 1, null)], 'x')?.id).toBe(9);
    expect(thresholdInForce(ths, 'auc')).toBeNull();
  });

  test('metrics come from live thresholds and from exceptions', () => {
    expect(metricsOf(ths, [ex(1, 'ks', null), ex(2, null, null, 'lapsed-approval')])).toEqual(['ks', 'psi']);
  });

  test('the y range shows every point and both lines', () => {
    const r = yRange(driftSeries(psi, ths, []));
    expect(r.min).toBeLessThan(0.05);
    expect(r.max).toBeGreaterThan(0.3);
    expect(yRange(driftSeries(core('none', []), [], []))).toEqual({ min: 0, max: 1 });
  });

  test('breaches go to the exception open at the time, oldest first', () => {
    const points = [
      { x: Date.parse('2026-11-01T00:00:00Z'), evaluation: 'breach' },
      { x: Date.parse('2026-11-02T00:00:00Z'), evaluation: 'ok' },
      { x: Date.parse('2026-11-03T00:00:00Z'), evaluation: 'breach' },
      { x: Date.parse('2026-11-05T00:00:00Z'), evaluation: 'breach' },
      { x: Date.parse('2026-11-09T00:00:00Z'), evaluation: 'breach' },
    ];
    const exceptions = [ex(9, 'psi', '2026-11-05T00:00:00Z'), ex(4, 'psi', '2026-11-03T00:00:00Z'), ex(5, 'psi', null, 'lapsed-approval')];
    // The last breach is after every exception's last breach: no exception to point at.
    expect(exceptionOf(points, exceptions)).toEqual([4, null, 4, 9, null]);
  });

  test('exception periods span their measurements', () => {
    const s = driftSeries(
      core('psi', [
        ['2026-11-01T00:00:00Z', 0.3, 'breach'],
        ['2026-11-02T00:00:00Z', 0.1, 'ok'],
        ['2026-11-03T00:00:00Z', 0.31, 'breach'],
        ['2026-11-05T00:00:00Z', 0.4, 'breach'],
      ]),
      [],
      [ex(4, 'psi', '2026-11-03T00:00:00Z'), ex(9, 'psi', '2026-11-05T00:00:00Z')],
    );
    expect(exceptionPeriods(s)).toEqual([
      { exceptionId: 4, from: Date.parse('2026-11-01T00:00:00Z'), to: Date.parse('2026-11-03T00:00:00Z') },
      { exceptionId: 9, from: Date.parse('2026-11-05T00:00:00Z'), to: Date.parse('2026-11-05T00:00:00Z') },
    ]);
  });
});
