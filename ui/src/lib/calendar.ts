// View logic of the review calendar: which group (and so colour) each kind of item belongs to, the
// events handed to FullCalendar, where a click leads, and which dates to ask the core for.

import type { CalendarItem } from './bindings/CalendarItem';
import type { CalendarQuery } from './bindings/CalendarQuery';
import type { DayCount } from './bindings/DayCount';
import type { KindCount } from './bindings/KindCount';
import { isoDate, relativeDeadline } from './format';
import type { Route } from './nav';

/** The groups a person filters by; each has one colour (`--cal-<group>` in Calendar.svelte). */
export type KindGroup = 'approval' | 'exception' | 'follow-up' | 'rotation' | 'nhi-expiry' | 'other';

export interface GroupInfo {
  id: KindGroup;
  label: string;
}

/** The filterable groups, in the order they are shown (the legend). */
export const GROUPS: readonly GroupInfo[] = [
  { id: 'approval', label: 'Approval expiry & review' },
  { id: 'exception', label: 'Exception deadlines' },
  { id: 'follow-up', label: 'Follow-up reviews' },
  { id: 'rotation', label: 'NHI rotation due' },
  { id: 'nhi-expiry', label: 'NHI expiry' },
];

/** Each kind the core computes: a short label (shown as a chip) and its group. */
export const KINDS: Readonly<Record<string, { label: string; group: KindGroup }>> = {
  'approval-expiry': { label: 'approval expires', group: 'approval' },
  'validate-deadline': { label: 'validate by', group: 'exception' },
  'decide-deadline': { label: 'decide by', group: 'exception' },
  'cosign-deadline': { label: 'co-sign by', group: 'exception' },
  'follow-up': { label: 'follow-up review', group: 'follow-up' },
  'rotation-due': { label: 'rotate NHI', group: 'rotation' },
  'nhi-expiry': { label: 'NHI expires', group: 'nhi-expiry' },
};

export function kindLabel(kind: string): string {
  return KINDS[kind]?.label ?? kind;
}

/** The group of a kind; a kind this release does not know is "other" (neutral, never hidden). */
export function groupOf(kind: string): KindGroup {
  return KINDS[kind]?.group ?? 'other';
}

/** The layouts, as FullCalendar view names ("day" is one day's full list, from a "+N more"). */
export type Layout = 'month' | 'week' | 'agenda' | 'day';

export const LAYOUTS: readonly { id: Layout; label: string; view: string }[] = [
  { id: 'month', label: 'Month', view: 'dayGridMonth' },
  { id: 'week', label: 'Week', view: 'dayGridWeek' },
  { id: 'agenda', label: 'Agenda', view: 'agenda' },
  { id: 'day', label: 'Day', view: 'day' },
];

export function viewOf(layout: Layout): string {
  return LAYOUTS.find((l) => l.id === layout)?.view ?? 'dayGridMonth';
}

/** The event FullCalendar draws for an item: all-day, coloured by group, the item carried along. */
export interface ItemEvent {
  id: string;
  title: string;
  start: string;
  allDay: true;
  color: string;
  contrastColor: string;
  className: string;
  extendedProps: { item: CalendarItem; dwOrder: 0 };
}

/** A day's "+N more": the items the per-day limit left out, drawn last in the day's cell. */
export interface MoreEvent {
  id: string;
  title: string;
  start: string;
  allDay: true;
  color: string;
  contrastColor: string;
  className: string;
  extendedProps: { more: { date: string; count: number }; dwOrder: 1 };
}

export type DrawnEvent = ItemEvent | MoreEvent;

export function eventClass(item: CalendarItem): string {
  const classes = ['dw-event', `dw-${groupOf(item.kind)}`];
  if (item.overdue) {
    classes.push('dw-overdue');
  }
  return classes.join(' ');
}

export function toEvent(item: CalendarItem): ItemEvent {
  const group = groupOf(item.kind);
  return {
    id: item.uid,
    title: item.title,
    start: item.date,
    allDay: true,
    // CSS custom properties (themed for light and dark in Calendar.svelte), never fixed colours.
    color: `var(--cal-${group}-bg)`,
    contrastColor: 'var(--text)',
    className: eventClass(item),
    extendedProps: { item, dwOrder: 0 },
  };
}

export function moreEvent(date: string, count: number): MoreEvent {
  return {
    id: `more-${date}`,
    title: moreLabel(count),
    start: date,
    allDay: true,
    color: 'var(--surface-2)',
    contrastColor: 'var(--text)',
    className: 'dw-more',
    extendedProps: { more: { date, count }, dwOrder: 1 },
  };
}

export function moreLabel(count: number): string {
  return `+${count.toLocaleString('en')} more`;
}

/** The items left out per day (of the chosen groups), summed over kinds, by date. */
export function moreByDate(more: readonly DayCount[], groups: ReadonlySet<KindGroup>): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of more) {
    const group = groupOf(m.kind);
    if (m.count > 0 && (group === 'other' || groups.has(group))) {
      out.set(m.date, (out.get(m.date) ?? 0) + m.count);
    }
  }
  return out;
}

/** What FullCalendar draws for a page: the items of the chosen groups, then each day's "+N more". */
export function pageEvents(
  items: readonly CalendarItem[],
  more: readonly DayCount[],
  groups: ReadonlySet<KindGroup>,
): DrawnEvent[] {
  const events: DrawnEvent[] = filterByGroup(items, groups).map(toEvent);
  for (const [date, count] of moreByDate(more, groups)) {
    events.push(moreEvent(date, count));
  }
  return events;
}

/** How many items of one kind a day lists before "+N more" (month, week and agenda). */
export const PER_DAY_LIMIT = 5;

/**
 * The core's query for what FullCalendar shows: only the range (the overdue panel lists what is
 * overdue from before it), a few items of each kind per day except in the one-day list, which has them all.
 */
export function rangeQuery(from: string, to: string, member: string | null, layout: Layout): CalendarQuery {
  return { from, to, member, overdue_limit: 0, per_day_limit: layout === 'day' ? null : PER_DAY_LIMIT };
}

/** How many overdue items the panel lists until asked for all, and at most when asked. */
export const OVERDUE_SHOWN = 3;
export const OVERDUE_ALL = 500;

/** The overdue panel's query: the most overdue before today (today's own items left out). */
export function overdueQuery(today: string, member: string | null, all: boolean): CalendarQuery {
  return { from: today, to: today, member, overdue_limit: all ? OVERDUE_ALL : OVERDUE_SHOWN, per_day_limit: 0 };
}

/** Home's "next N days" of one member: a few of the most overdue, a few items of each kind per day. */
export function upcomingQuery(today: Date, days: number, member: string): CalendarQuery {
  const until = new Date(today.getFullYear(), today.getMonth(), today.getDate() + days);
  return { from: isoDate(today), to: isoDate(until), member, overdue_limit: OVERDUE_SHOWN, per_day_limit: PER_DAY_LIMIT };
}

/** How many are overdue among the chosen groups (kinds this release does not know always count). */
export function overdueCount(byKind: readonly KindCount[], groups: ReadonlySet<KindGroup>): number {
  return byKind.reduce((sum, k) => {
    const group = groupOf(k.kind);
    return group === 'other' || groups.has(group) ? sum + k.count : sum;
  }, 0);
}

/** The overdue panel's items: those dated before `today`, of the chosen groups, most overdue first. */
export function overdueBefore(items: readonly CalendarItem[], today: string, groups: ReadonlySet<KindGroup>): CalendarItem[] {
  return overdueItems(filterByGroup(items, groups).filter((item) => item.date < today));
}

/** Items left out of a page by the per-day limit, in all (Home's "and N more"). */
export function moreTotal(more: readonly DayCount[]): number {
  return more.reduce((sum, m) => sum + m.count, 0);
}

/** One line that says everything about an item: for a tooltip and for screen readers. */
export function describe(item: CalendarItem, today: Date = new Date()): string {
  const parts = [`${kindLabel(item.kind)}: ${item.title}`, relativeDeadline(item.date, today)];
  if (item.overdue) {
    parts[1] = `overdue, ${parts[1]}`;
  }
  if (item.member) {
    parts.push(`${item.member} acts`);
  }
  return parts.join(' · ');
}

/** Where a click on the item leads: its model, exception or NHI page (the inventory at worst). */
export function routeOf(item: CalendarItem): Route {
  if (item.entity_type === 'exception') {
    return { view: 'exception', id: item.entity_id };
  }
  if (item.entity_type === 'model' && item.model) {
    return { view: 'model', model: item.model };
  }
  if (item.entity_type === 'nhi' && item.nhi) {
    return { view: 'nhi', nhi: item.nhi };
  }
  return { view: 'nhis' };
}

/** Only the items of the chosen groups (items of unknown kinds are always kept). */
export function filterByGroup(items: readonly CalendarItem[], groups: ReadonlySet<KindGroup>): CalendarItem[] {
  return items.filter((item) => {
    const group = groupOf(item.kind);
    return group === 'other' || groups.has(group);
  });
}

/** Only the items dated within `[from, to]` (dates as `YYYY-MM-DD`). */
export function withinRange(items: readonly CalendarItem[], from: string, to: string): CalendarItem[] {
  return items.filter((item) => item.date >= from && item.date <= to);
}

/** The overdue items, most overdue first. */
export function overdueItems(items: readonly CalendarItem[]): CalendarItem[] {
  return items
    .filter((item) => item.overdue)
    .sort((a, b) => a.date.localeCompare(b.date) || a.uid.localeCompare(b.uid));
}

/**
 * The dates to ask the core for when FullCalendar shows `[start, end)` (local midnights; `end` is
 * exclusive, as FullCalendar gives it): `from` and `to` inclusive.
 */
export function fetchRange(start: Date, end: Date): { from: string; to: string } {
  const last = new Date(end.getFullYear(), end.getMonth(), end.getDate() - 1);
  return { from: isoDate(start), to: isoDate(last < start ? start : last) };
}

/** The agenda's period: from today through `days` days ahead, both inclusive. */
export function agendaDays(days: number): number {
  return Math.max(1, Math.floor(days)) + 1;
}

/** The export's period: what is on screen. */
export function exportRange(start: Date, end: Date): { from: string; to: string } {
  return fetchRange(start, end);
}

/** A count in words for the overdue heading: "3 items overdue". */
export function overdueHeading(count: number): string {
  return `${count.toLocaleString('en')} ${count === 1 ? 'item' : 'items'} overdue`;
}
