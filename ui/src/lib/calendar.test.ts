import { describe as group, expect, test } from 'vitest';
import type { CalendarItem } from './bindings/CalendarItem';
import {
  agendaDays,
  describe,
  eventClass,
  fetchRange,
  filterByGroup,
  GROUPS,
  groupOf,
  kindLabel,
  KINDS,
  moreByDate,
  moreTotal,
  OVERDUE_ALL,
  OVERDUE_SHOWN,
  overdueBefore,
  overdueCount,
  overdueHeading,
  overdueItems,
  overdueQuery,
  pageEvents,
  PER_DAY_LIMIT,
  rangeQuery,
  routeOf,
  upcomingQuery,
  toEvent,
  viewOf,
  withinRange,
  type KindGroup,
} from './calendar';

function item(overrides: Partial<CalendarItem> = {}): CalendarItem {
  return {
    uid: 'approval-expiry-model-1@r',
    kind: 'approval-expiry',
    date: '2026-12-10',
    title: 'Approval of credit-risk expires: renew or retire',
    entity_type: 'model',
    entity_id: 1,
    model: 'credit-risk',
    nhi: null,
    member: 'bob@northwind.example',
    overdue: false,
    days_left: 13,
    ...overrides,
  };
}

const TODAY = new Date(2026, 10, 27); // 27 Nov 2026, local

group('kinds and colours', () => {
  test('every kind the core computes has a label and one of the filterable groups', () => {
    const groups = new Set(GROUPS.map((g) => g.id));
    for (const kind of [
      'approval-expiry',
      'validate-deadline',
      'decide-deadline',
      'cosign-deadline',
      'follow-up',
      'rotation-due',
      'nhi-expiry',
    ]) {
      expect(KINDS[kind]).toBeDefined();
      expect(groups.has(groupOf(kind))).toBe(true);
    }
    expect(groupOf('validate-deadline')).toBe('exception');
    expect(groupOf('cosign-deadline')).toBe('exception');
    expect(groupOf('rotation-due')).toBe('rotation');
    expect(kindLabel('approval-expiry')).toBe('approval expires');
  });

  test('an unknown kind is "other", labelled by its own name', () => {
    expect(groupOf('something-new')).toBe('other');
    expect(kindLabel('something-new')).toBe('something-new');
  });

  test('an event is all-day on the item date, coloured by its group through CSS variables', () => {
    const event = toEvent(item({ kind: 'rotation-due', entity_type: 'nhi', nhi: 'svc-a', model: null }));
    expect(event).toMatchObject({
      id: 'approval-expiry-model-1@r',
      title: 'Approval of credit-risk expires: renew or retire',
      start: '2026-12-10',
      allDay: true,
      color: 'var(--cal-rotation-bg)',
      contrastColor: 'var(--text)',
    });
    expect(event.extendedProps.item.nhi).toBe('svc-a');
  });

  test('overdue items carry a class of their own', () => {
    expect(eventClass(item())).toBe('dw-event dw-approval');
    expect(eventClass(item({ overdue: true, kind: 'decide-deadline' }))).toBe('dw-event dw-exception dw-overdue');
  });

  test('the description says the kind, the title, when, and who acts; overdue in words', () => {
    expect(describe(item(), TODAY)).toBe(
      'approval expires: Approval of credit-risk expires: renew or retire · in 13 days · bob@northwind.example acts',
    );
    expect(describe(item({ date: '2026-11-25', overdue: true, member: null }), TODAY)).toBe(
      'approval expires: Approval of credit-risk expires: renew or retire · overdue, 2 days overdue',
    );
  });
});

group('navigation', () => {
  test('a model item opens its model page (by display name)', () => {
    expect(routeOf(item({ model: 'credit-risk@2' }))).toEqual({ view: 'model', model: 'credit-risk@2' });
  });

  test('an exception item opens the exception', () => {
    expect(routeOf(item({ kind: 'follow-up', entity_type: 'exception', entity_id: 7 }))).toEqual({ view: 'exception', id: 7 });
  });

  test('an NHI item opens the NHI page; without a name, the inventory', () => {
    expect(routeOf(item({ kind: 'nhi-expiry', entity_type: 'nhi', entity_id: 3, model: null, nhi: 'bureau-api-key' }))).toEqual({
      view: 'nhi',
      nhi: 'bureau-api-key',
    });
    expect(routeOf(item({ kind: 'nhi-expiry', entity_type: 'nhi', entity_id: 3, model: null, nhi: null }))).toEqual({ view: 'nhis' });
  });
});

group('filters', () => {
  const items = [
    item({ uid: 'a', kind: 'approval-expiry', date: '2026-12-01' }),
    item({ uid: 'b', kind: 'decide-deadline', date: '2026-11-20', overdue: true }),
    item({ uid: 'c', kind: 'rotation-due', date: '2026-05-26', overdue: true }),
    item({ uid: 'd', kind: 'something-new', date: '2026-12-31' }),
  ];

  test('by group; unknown kinds are never hidden', () => {
    const only = new Set<KindGroup>(['exception']);
    expect(filterByGroup(items, only).map((i) => i.uid)).toEqual(['b', 'd']);
    expect(filterByGroup(items, new Set(GROUPS.map((g) => g.id))).map((i) => i.uid)).toEqual(['a', 'b', 'c', 'd']);
  });

  test('within a range, both ends included', () => {
    expect(withinRange(items, '2026-11-20', '2026-12-01').map((i) => i.uid)).toEqual(['a', 'b']);
  });

  test('overdue items, most overdue first', () => {
    expect(overdueItems(items).map((i) => i.uid)).toEqual(['c', 'b']);
    expect(overdueHeading(1)).toBe('1 item overdue');
    expect(overdueHeading(5)).toBe('5 items overdue');
    expect(overdueHeading(4004)).toBe('4,004 items overdue');
  });
});

group('ranges', () => {
  test('the visible range [start, end) becomes an inclusive from/to', () => {
    // A month view of November 2026 starting on Monday: 26 Oct to 7 Dec (exclusive).
    expect(fetchRange(new Date(2026, 9, 26), new Date(2026, 11, 7))).toEqual({ from: '2026-10-26', to: '2026-12-06' });
    // A week across a year end.
    expect(fetchRange(new Date(2026, 11, 28), new Date(2027, 0, 4))).toEqual({ from: '2026-12-28', to: '2027-01-03' });
    // An empty range still asks for its first day.
    expect(fetchRange(new Date(2026, 10, 27), new Date(2026, 10, 27))).toEqual({ from: '2026-11-27', to: '2026-11-27' });
  });

  test('the agenda looks ahead through the last day chosen', () => {
    expect(agendaDays(90)).toBe(91);
    expect(agendaDays(0)).toBe(2);
  });

  test('layouts map to FullCalendar views', () => {
    expect(viewOf('month')).toBe('dayGridMonth');
    expect(viewOf('week')).toBe('dayGridWeek');
    expect(viewOf('agenda')).toBe('agenda');
    expect(viewOf('day')).toBe('day');
  });
});

group('pages from the core', () => {
  const all = new Set<KindGroup>(GROUPS.map((g) => g.id));

  test('a range query: no overdue from before it, a few NHI items per day except in the day list', () => {
    expect(rangeQuery('2026-11-01', '2026-11-30', null, 'month')).toEqual({
      from: '2026-11-01', to: '2026-11-30', member: null, overdue_limit: 0, per_day_limit: PER_DAY_LIMIT,
    });
    expect(rangeQuery('2026-11-05', '2026-11-05', 'ana@x', 'day')).toEqual({
      from: '2026-11-05', to: '2026-11-05', member: 'ana@x', overdue_limit: 0, per_day_limit: null,
    });
    expect(rangeQuery('2026-11-01', '2027-01-29', null, 'agenda').per_day_limit).toBe(PER_DAY_LIMIT);
  });

  test('the overdue panel asks for a few, or for all up to the cap; home for the next days of one member', () => {
    expect(overdueQuery('2026-11-27', null, false)).toMatchObject({ from: '2026-11-27', to: '2026-11-27', overdue_limit: OVERDUE_SHOWN });
    expect(overdueQuery('2026-11-27', 'ana@x', true)).toMatchObject({ member: 'ana@x', overdue_limit: OVERDUE_ALL });
    expect(upcomingQuery(TODAY, 14, 'ana@x')).toEqual({
      from: '2026-11-27', to: '2026-12-11', member: 'ana@x', overdue_limit: 3, per_day_limit: 5,
    });
  });

  test('"+N more" per day sums the kinds of the chosen groups and is drawn after the day\'s items', () => {
    const more = [
      { date: '2026-11-05', kind: 'rotation-due', count: 40 },
      { date: '2026-11-05', kind: 'nhi-expiry', count: 2 },
      { date: '2026-11-06', kind: 'nhi-expiry', count: 7 },
      { date: '2026-11-07', kind: 'rotation-due', count: 0 },
    ];
    expect([...moreByDate(more, all)]).toEqual([['2026-11-05', 42], ['2026-11-06', 7]]);
    expect([...moreByDate(more, new Set<KindGroup>(['rotation']))]).toEqual([['2026-11-05', 40]]);
    expect(moreTotal(more)).toBe(49);

    const rotation = item({ uid: 'r1', kind: 'rotation-due', date: '2026-11-05', entity_type: 'nhi', nhi: 'sa' });
    const approval = item({ uid: 'a1', date: '2026-11-05' });
    const events = pageEvents([rotation, approval], more, new Set<KindGroup>(['rotation', 'nhi-expiry']));
    expect(events.map((e) => e.id)).toEqual(['r1', 'more-2026-11-05', 'more-2026-11-06']);
    const day = events[1];
    expect(day.title).toBe('+42 more');
    expect(day.extendedProps).toEqual({ more: { date: '2026-11-05', count: 42 }, dwOrder: 1 });
    expect(events[0].extendedProps.dwOrder).toBe(0);
  });

  test('overdue counts follow the kind filter; the listed ones are those before today, most overdue first', () => {
    const byKind = [
      { kind: 'rotation-due', count: 1200 },
      { kind: 'approval-expiry', count: 3 },
      { kind: 'something-new', count: 1 },
    ];
    expect(overdueCount(byKind, all)).toBe(1204);
    expect(overdueCount(byKind, new Set<KindGroup>(['approval']))).toBe(4);
    const old = item({ uid: 'o', date: '2026-01-02', overdue: true, kind: 'rotation-due' });
    const older = item({ uid: 'p', date: '2025-12-01', overdue: true });
    const todays = item({ uid: 't', date: '2026-11-27', overdue: false });
    expect(overdueBefore([old, todays, older], '2026-11-27', all).map((i) => i.uid)).toEqual(['p', 'o']);
    expect(overdueBefore([old, older], '2026-11-27', new Set<KindGroup>(['approval'])).map((i) => i.uid)).toEqual(['p']);
  });
});
