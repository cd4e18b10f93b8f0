import { describe, expect, test } from 'vitest';
import type { GateItem } from './bindings/GateItem';
import type { ThresholdView } from './bindings/ThresholdView';
import { describeThreshold, gateRows, gateSummary, refusedItems, thresholdsToSign } from './gate';

const item = (name: string, ok: boolean, detail: string | null = null): GateItem => ({ item: name, label: name, ok, detail });

function threshold(id: number, metric: string, version: number, status: ThresholdView['status']): ThresholdView {
  return {
    id,
    model_id: 1,
    metric,
    version,
    breach: 0.2 * version,
    warn: 0.1,
    direction: 'above',
    status,
    proposed_by: 'ana@acme.example',
    proposed_at: '2026-11-01T00:00:00Z',
  };
}

describe('gate checklist', () => {
  const gate = [item('owner', true), item('threshold', false, 'a drift threshold'), item('validator', false, 'a validator'), item('expiry', true)];

  test('rows say what is missing and where to fix it', () => {
    const rows = gateRows(gate);
    expect(rows[0]).toMatchObject({ ok: true, text: 'in place', fix: null });
    expect(rows[1]).toMatchObject({ ok: false, text: 'Missing: a drift threshold', fix: 'threshold' });
    expect(rows[2]).toMatchObject({ fix: 'rights' });
  });

  test('summary counts the missing items', () => {
    expect(gateSummary(gate)).toBe('2 of 4 items are missing.');
    expect(gateSummary([item('owner', true)])).toBe('All 1 items are in place.');
  });

  test('a gate_refused message lists its items', () => {
    expect(refusedItems('cannot approve credit-risk: missing a drift threshold; a validator')).toEqual([
      'a drift threshold',
      'a validator',
    ]);
    expect(refusedItems('something else')).toEqual([]);
  });
});

describe('what an approval signs', () => {
  test('a proposed version wins over the approved one, per metric', () => {
    const signed = thresholdsToSign([
      threshold(1, 'psi', 1, 'approved'),
      threshold(2, 'psi', 2, 'proposed'),
      threshold(3, 'ks', 1, 'approved'),
      threshold(4, 'ks', 2, 'withdrawn'),
      threshold(5, 'old', 1, 'superseded'),
    ]);
    expect(signed.map((t) => t.id)).toEqual([3, 2]);
  });

  test('described in plain words', () => {
    expect(describeThreshold({ metric: 'psi', warn: 0.1, breach: 0.25, direction: 'above' })).toBe(
      'psi: warn 0.1, breach 0.25 (values above breach)',
    );
    expect(describeThreshold({ metric: 'auc', warn: null, breach: 0.7, direction: 'below' })).toBe(
      'auc: breach 0.7 (values below breach)',
    );
  });
});
