import { describe, expect, test } from 'vitest';
import type { DriftColumnView } from './bindings/DriftColumnView';
import {
  driftPercent,
  driftStage,
  formatBytes,
  formatScore,
  formatShare,
  packFolderIn,
  packStageLabel,
  periodLabel,
  PVALUE_FLOOR,
  scoreBars,
} from './evidence';

function column(name: string, method: string, score: number | null, threshold: number, pvalue: boolean, drifted: boolean): DriftColumnView {
  return {
    name,
    kind: pvalue ? 'categorical' : 'numeric',
    method,
    method_label: method,
    score,
    threshold,
    pvalue,
    rule: pvalue ? 'score < threshold' : 'score >= threshold',
    drifted,
    n_reference: 100,
    n_current: 100,
    missing_reference: 0,
    missing_current: 0,
    n_unique: 10,
  };
}

describe('pack progress', () => {
  test('stages in words, unknown ones as they are', () => {
    expect(packStageLabel({ stage: 'report', percent: 35 })).toBe('Typesetting the report');
    expect(packStageLabel({ stage: 'manifest', percent: 90 })).toMatch(/signing/);
    expect(packStageLabel({ stage: 'something new', percent: 50 })).toBe('something new');
  });

  test('periods', () => {
    expect(periodLabel(null, null)).toBe('entire history');
    expect(periodLabel('2026-01-01', null)).toBe('from 2026-01-01');
    expect(periodLabel(null, '2026-06-30')).toBe('up to 2026-06-30');
    expect(periodLabel('2026-01-01', '2026-06-30')).toBe('2026-01-01 to 2026-06-30');
  });

  test('a new folder inside the chosen one', () => {
    expect(packFolderIn('/home/ana/Audits', '2026-11-27')).toBe('/home/ana/Audits/driftwarden-pack-2026-11-27');
    expect(packFolderIn('/home/ana/Audits/', '2026-11-27')).toBe('/home/ana/Audits/driftwarden-pack-2026-11-27');
    expect(packFolderIn('C:\\Users\\ana', '2026-11-27')).toBe('C:\\Users\\ana\\driftwarden-pack-2026-11-27');
  });

  test('sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(14_200)).toBe('14.2 kB');
    expect(formatBytes(3_400_000)).toBe('3.4 MB');
  });
});

describe('drift progress', () => {
  test('reading is the first nine tenths, columns the last', () => {
    expect(driftPercent({ bytes_read: 0, total_bytes: 0, columns_done: 0, columns_total: 0 })).toBe(0);
    expect(driftPercent({ bytes_read: 50, total_bytes: 100, columns_done: 0, columns_total: 0 })).toBe(45);
    expect(driftPercent({ bytes_read: 100, total_bytes: 100, columns_done: 0, columns_total: 20 })).toBe(90);
    expect(driftPercent({ bytes_read: 100, total_bytes: 100, columns_done: 10, columns_total: 20 })).toBe(95);
    expect(driftPercent({ bytes_read: 100, total_bytes: 100, columns_done: 20, columns_total: 20 })).toBe(100);
  });

  test('stage text', () => {
    expect(driftStage({ bytes_read: 1500, total_bytes: 3000, columns_done: 0, columns_total: 0 })).toBe(
      'Reading the files: 1.5 kB of 3.0 kB',
    );
    expect(driftStage({ bytes_read: 3000, total_bytes: 3000, columns_done: 3, columns_total: 20 })).toBe(
      'Computing 3 of 20 columns',
    );
  });
});

describe('drift scores', () => {
  test('formatting', () => {
    expect(formatScore(null)).toBe('–');
    expect(formatScore(0)).toBe('0');
    expect(formatScore(0.014029880160857034)).toBe('0.01403');
    expect(formatScore(3.2e-17)).toBe('3.200e-17');
    expect(formatShare(0.35)).toBe('35%');
    expect(formatShare(1 / 3)).toBe('33.3%');
  });

  test('distances and p-values go to separate charts; no score, no bar', () => {
    const groups = scoreBars([
      column('num_00', 'wasserstein', 0.014, 0.1, false, false),
      column('cat_0', 'chisquare', 0, 0.05, true, true),
      column('num_01', 'wasserstein', 0.185, 0.1, false, true),
      column('cat_1', 'chisquare', null, 0.05, true, false),
      column('cat_2', 'z', 0.4, 0.05, true, false),
    ]);
    expect(groups.map((g) => g.kind)).toEqual(['distance', 'pvalue']);
    const [distance, pvalue] = groups;
    expect(distance.labels).toEqual(['num_00', 'num_01']);
    expect(distance.values).toEqual([0.014, 0.185]);
    expect(distance.drifted).toEqual([false, true]);
    expect(pvalue.labels).toEqual(['cat_0', 'cat_2']);
    // A p-value of 0 is drawn at the floor of the log axis; the tooltip keeps the exact score.
    expect(pvalue.values).toEqual([PVALUE_FLOOR, 0.4]);
    expect(pvalue.scores).toEqual([0, 0.4]);
    expect(pvalue.thresholds).toEqual([0.05, 0.05]);
  });

  test('only distances: one chart', () => {
    expect(scoreBars([column('a', 'psi', 0.3, 0.1, false, true)]).map((g) => g.kind)).toEqual(['distance']);
    expect(scoreBars([])).toEqual([]);
  });
});
