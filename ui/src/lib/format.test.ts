import { describe, expect, it, test } from 'vitest';
import { capped, daysBetween, formatValue, isoDate, monthsAhead, parseWhen, plural, relativeDeadline, relativeExpiry } from './format';

const today = new Date(2026, 10, 27, 15, 30); // 27 Nov 2026, afternoon

describe('deadlines in words', () => {
  test('future, today and past', () => {
    expect(relativeDeadline('2026-11-30', today)).toBe('in 3 days');
    expect(relativeDeadline('2026-11-28', today)).toBe('in 1 day');
    expect(relativeDeadline('2026-11-27', today)).toBe('due today');
    expect(relativeDeadline('2026-11-25', today)).toBe('2 days overdue');
    expect(relativeDeadline('2026-11-26', today)).toBe('1 day overdue');
  });

  test('expiries', () => {
    expect(relativeExpiry('2026-12-27', today)).toBe('expires in 30 days');
    expect(relativeExpiry('2026-11-27', today)).toBe('expires today');
    expect(relativeExpiry('2026-11-20', today)).toBe('expired 7 days ago');
  });

  test('unparseable text is shown as it is', () => {
    expect(relativeDeadline('soon', today)).toBe('soon');
    expect(parseWhen('not a date')).toBeNull();
  });

  test('calendar days ignore the time of day', () => {
    expect(daysBetween(new Date(2026, 10, 27, 23, 59), new Date(2026, 10, 28, 0, 1))).toBe(1);
  });
});

describe('numbers and dates', () => {
  test('values keep useful precision without trailing zeros', () => {
    expect(formatValue(0.25)).toBe('0.25');
    expect(formatValue(0.123456)).toBe('0.1235');
    expect(formatValue(12.34567)).toBe('12.346');
    expect(formatValue(1234.56)).toBe('1234.6');
    expect(formatValue(3)).toBe('3');
    expect(formatValue(null)).toBe('–');
    expect(formatValue(Number.NaN)).toBe('–');
  });

  test('plain dates and month arithmetic', () => {
    expect(isoDate(new Date(2026, 0, 5))).toBe('2026-01-05');
    expect(monthsAhead(3, today)).toBe('2027-02-27');
    expect(plural(1, 'model', 'models')).toBe('1 model');
    expect(plural(2, 'model', 'models')).toBe('2 models');
  });
});

describe('calendar grouping', () => {
  test('items are grouped by month in order', async () => {
    const { groupByMonth } = await import('./format');
    const groups = groupByMonth([{ date: '2026-11-03' }, { date: '2026-11-30' }, { date: '2026-12-01' }]);
    expect(groups.map((g) => g.items.length)).toEqual([2, 1]);
    expect(groups[0].month).toMatch(/2026/);
  });
});

describe('capped', () => {
  it('keeps the first items of a long list and counts the rest', () => {
    const list = Array.from({ length: 30 }, (_, i) => i);
    expect(capped(list, 30, 25, false).shown).toEqual(list.slice(0, 25));
    expect(capped(list, 30, 25, false).hidden).toBe(5);
    expect(capped(list, 30, 25, true)).toEqual({ shown: list, hidden: 0 });
    expect(capped(list.slice(0, 25), 25, 25, false)).toEqual({ shown: list.slice(0, 25), hidden: 0 });
    expect(capped([], 0, 25, false)).toEqual({ shown: [], hidden: 0 });
  });
  it('counts what the core left out of a list it sent only the first items of', () => {
    const first = Array.from({ length: 25 }, (_, i) => i);
    expect(capped(first, 4000, 25, false)).toEqual({ shown: first, hidden: 3975 });
    // "Show all" before the rest has arrived still says how many are missing.
    expect(capped(first, 4000, 25, true)).toEqual({ shown: first, hidden: 3975 });
    expect(capped([1, 2], 0, 25, false)).toEqual({ shown: [1, 2], hidden: 0 });
  });
});
