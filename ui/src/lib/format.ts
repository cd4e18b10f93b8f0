/** Formats an RFC 3339 timestamp (or a `YYYY-MM-DD` date) as a local date, e.g. "27 Nov 2026". */
export function formatDate(value: string): string {
  const date = parseWhen(value);
  if (date === null) {
    return value;
  }
  return date.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

/** Formats an RFC 3339 timestamp as a local date and time, e.g. "27 Nov 2026, 14:05". */
export function formatDateTime(value: string): string {
  const date = parseWhen(value);
  if (date === null) {
    return value;
  }
  return date.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** Parses an RFC 3339 timestamp or a plain `YYYY-MM-DD` date (as local midnight). */
export function parseWhen(value: string): Date | null {
  const plain = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const date = plain ? new Date(Number(plain[1]), Number(plain[2]) - 1, Number(plain[3])) : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "1 model", "3 models". */
export function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

const DAY_MS = 86_400_000;

/** Whole calendar days from `today` to `date` (negative when `date` is past). */
export function daysBetween(today: Date, date: Date): number {
  const a = Date.UTC(today.getFullYear(), today.getMonth(), today.getDate());
  const b = Date.UTC(date.getFullYear(), date.getMonth(), date.getDate());
  return Math.round((b - a) / DAY_MS);
}

/** A deadline in words relative to today: "today", "in 3 days", "2 days overdue". */
export function relativeDeadline(value: string, today: Date = new Date()): string {
  const date = parseWhen(value);
  if (date === null) {
    return value;
  }
  const days = daysBetween(today, date);
  if (days === 0) {
    return 'due today';
  }
  if (days > 0) {
    return `in ${plural(days, 'day', 'days')}`;
  }
  return `${plural(-days, 'day', 'days')} overdue`;
}

/** An expiry in words: "expires in 30 days", "expired 2 days ago". */
export function relativeExpiry(value: string, today: Date = new Date()): string {
  const date = parseWhen(value);
  if (date === null) {
    return value;
  }
  const days = daysBetween(today, date);
  if (days > 0) {
    return `expires in ${plural(days, 'day', 'days')}`;
  }
  if (days === 0) {
    return 'expires today';
  }
  return `expired ${plural(-days, 'day', 'days')} ago`;
}

/** A measurement or threshold value: up to 4 significant decimals, no trailing zeros. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return '–';
  }
  if (Number.isInteger(value)) {
    return String(value);
  }
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 1 : abs >= 1 ? 3 : 4;
  return String(Number(value.toFixed(digits)));
}

/** `YYYY-MM-DD` of a local date. */
export function isoDate(date: Date): string {
  const y = date.getFullYear();
  const m = String(date.getMonth() + 1).padStart(2, '0');
  const d = String(date.getDate()).padStart(2, '0');
  return `${y}-${m}-${d}`;
}

/** `YYYY-MM-DD` of today plus `months` calendar months. */
export function monthsAhead(months: number, today: Date = new Date()): string {
  const date = new Date(today.getFullYear(), today.getMonth() + months, today.getDate());
  return isoDate(date);
}

/** "November 2026" for a `YYYY-MM-DD` date. */
export function monthOf(value: string): string {
  const date = parseWhen(value);
  if (date === null) {
    return value;
  }
  return date.toLocaleDateString(undefined, { year: 'numeric', month: 'long' });
}

/** Groups items by the month of `date`, keeping their order. */
export function groupByMonth<T extends { date: string }>(items: readonly T[]): { month: string; items: T[] }[] {
  const groups: { month: string; items: T[] }[] = [];
  for (const item of items) {
    const month = monthOf(item.date);
    const last = groups.at(-1);
    if (last && last.month === month) {
      last.items.push(item);
    } else {
      groups.push({ month, items: [item] });
    }
  }
  return groups;
}

/**
 * The first `limit` of a long list (all it holds when `all`), and how many of the `total` it has
 * in all are left out: the list may hold only the first few (the core sends what a screen shows).
 */
export function capped<T>(
  list: readonly T[],
  total: number,
  limit: number,
  all: boolean,
): { shown: readonly T[]; hidden: number } {
  const shown = all || list.length <= limit ? list : list.slice(0, limit);
  return { shown, hidden: Math.max(total, list.length) - shown.length };
}
