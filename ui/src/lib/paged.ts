// The view logic of paged, virtualised tables (VirtualTable.svelte): which rows a scroll position
// shows, which pages those rows need, and a cache of fetched pages. Rows have one fixed height, so
// the window is arithmetic; only the rows in view (plus a little overscan) reach the DOM.
// Pure logic, unit-tested in paged.test.ts.

/** One page as the core returns it: the rows from `offset` and how many rows match in all. */
export interface Page<T> {
  total: number;
  items: T[];
}

/** Fetches `limit` rows from `offset` (of whatever filter and order the caller has fixed). */
export type FetchPage<T> = (offset: number, limit: number) => Promise<Page<T>>;

/** A range of row indexes, `start` included, `end` excluded. */
export interface Range {
  start: number;
  end: number;
}

/**
 * Tallest scrollable content in pixels. Browsers stop laying out past roughly 2^25 px (WebKit's
 * fixed-point layout units), so a million rows of 36 px cannot each get their own pixels: past
 * this height scroll positions map proportionally onto rows instead.
 */
export const MAX_CONTENT_PX = 8_000_000;

/** What a scroll position shows: the rows (`start` included, `end` excluded) and the spacers around them. */
export interface Window extends Range {
  /** Height of the spacer before the first rendered row. */
  padTop: number;
  /** Height of the spacer after the last rendered row. */
  padBottom: number;
  /** Height of everything together (spacers and rows). */
  contentHeight: number;
}

function geometry(height: number, rowHeight: number, total: number, maxContent: number) {
  const contentHeight = Math.min(total * rowHeight, maxContent);
  const maxScroll = Math.max(0, contentHeight - height);
  const maxFirst = Math.max(0, total - height / rowHeight);
  // Pixels of scroll per row: rowHeight unless the content is capped.
  const ratio = maxFirst > 0 ? maxScroll / maxFirst : rowHeight;
  return { contentHeight, maxScroll, ratio };
}

/** The rows shown at `scrollTop` in a viewport `height` pixels tall, with `overscan` rows either side. */
export function windowAt(
  scrollTop: number,
  height: number,
  rowHeight: number,
  total: number,
  overscan = 5,
  maxContent = MAX_CONTENT_PX,
): Window {
  if (total <= 0 || rowHeight <= 0) {
    return { start: 0, end: 0, padTop: 0, padBottom: 0, contentHeight: 0 };
  }
  const { contentHeight, maxScroll, ratio } = geometry(height, rowHeight, total, maxContent);
  const top = Math.min(Math.max(0, scrollTop), maxScroll);
  const firstExact = ratio > 0 ? top / ratio : 0;
  const first = Math.min(Math.floor(firstExact), total - 1);
  const count = Math.ceil(Math.max(0, height) / rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(total, first + count + overscan);
  const padTop = Math.max(0, top - (firstExact - start) * rowHeight);
  const padBottom = Math.max(0, contentHeight - padTop - (end - start) * rowHeight);
  return { start, end, padTop, padBottom, contentHeight };
}

/** The rows of `windowAt` only. */
export function visibleRange(
  scrollTop: number,
  height: number,
  rowHeight: number,
  total: number,
  overscan = 5,
  maxContent = MAX_CONTENT_PX,
): Range {
  const { start, end } = windowAt(scrollTop, height, rowHeight, total, overscan, maxContent);
  return { start, end };
}

/** The page numbers (of `pageSize` rows) that hold the rows of `range`. */
export function pagesFor(range: Range, pageSize: number): number[] {
  if (range.end <= range.start || pageSize <= 0) {
    return [];
  }
  const first = Math.floor(range.start / pageSize);
  const last = Math.floor((range.end - 1) / pageSize);
  const pages: number[] = [];
  for (let p = first; p <= last; p++) {
    pages.push(p);
  }
  return pages;
}

/** The scrollTop that brings row `index` fully into view (unchanged when it already is). */
export function scrollToShow(
  index: number,
  scrollTop: number,
  height: number,
  rowHeight: number,
  total: number,
  maxContent = MAX_CONTENT_PX,
): number {
  const { maxScroll, ratio } = geometry(height, rowHeight, total, maxContent);
  const firstExact = ratio > 0 ? scrollTop / ratio : 0;
  const rowsInView = height / rowHeight;
  let first: number;
  if (index < firstExact) {
    first = index;
  } else if (index + 1 > firstExact + rowsInView) {
    first = index + 1 - rowsInView;
  } else {
    return scrollTop;
  }
  return Math.min(maxScroll, Math.max(0, first * ratio));
}

/** The active row after a navigation key, or `null` when the key is not one the table handles. */
export function moveActive(key: string, active: number, total: number, pageRows: number): number | null {
  if (total <= 0) {
    return null;
  }
  const step = Math.max(1, pageRows - 1);
  const clamp = (i: number): number => Math.min(total - 1, Math.max(0, i));
  switch (key) {
    case 'ArrowDown':
      return clamp(active < 0 ? 0 : active + 1);
    case 'ArrowUp':
      return clamp(active < 0 ? 0 : active - 1);
    case 'PageDown':
      return clamp(active + step);
    case 'PageUp':
      return clamp(active - step);
    case 'Home':
      return 0;
    case 'End':
      return total - 1;
    default:
      return null;
  }
}

/**
 * Fetched pages of one query. `ensure(range)` fetches the pages the range needs that are neither
 * held nor in flight; `onchange` runs when a page arrives (or fails). At most `maxPages` pages are
 * kept: the ones farthest from the last range asked for are dropped first. A cache serves one
 * query: build a new one when the filter changes (`close()` the old one so its late answers are
 * ignored).
 */
export class PageCache<T> {
  readonly pageSize: number;
  private readonly maxPages: number;
  private readonly fetchPage: FetchPage<T>;
  private readonly onchange: () => void;
  private readonly pages = new Map<number, T[]>();
  private readonly inFlight = new Set<number>();
  private closed = false;
  /** How many rows match in all; `null` until the first page arrives. */
  total: number | null = null;
  /** The message of the last failed fetch, if any. */
  error: string | null = null;

  constructor(fetchPage: FetchPage<T>, onchange: () => void, pageSize = 100, maxPages = 20) {
    if (pageSize < 1) {
      throw new Error('pageSize must be at least 1');
    }
    this.fetchPage = fetchPage;
    this.onchange = onchange;
    this.pageSize = pageSize;
    this.maxPages = Math.max(2, maxPages);
  }

  /** The row at `index`, or `undefined` while its page has not arrived. */
  get(index: number): T | undefined {
    return this.pages.get(Math.floor(index / this.pageSize))?.[index % this.pageSize];
  }

  /** Whether a page is held (for tests and the loading state). */
  has(page: number): boolean {
    return this.pages.has(page);
  }

  get pageCount(): number {
    return this.pages.size;
  }

  /** Fetches the pages `range` needs; resolves when those fetches settle. */
  async ensure(range: Range): Promise<void> {
    // Before the total is known only the first page is asked for.
    const wanted = this.total === null ? [Math.floor(range.start / this.pageSize)] : pagesFor(range, this.pageSize);
    const missing = wanted.filter((p) => !this.pages.has(p) && !this.inFlight.has(p));
    this.evict(range);
    await Promise.all(missing.map((p) => this.load(p)));
  }

  /** Ignores every later answer (the query changed). */
  close(): void {
    this.closed = true;
  }

  private async load(page: number): Promise<void> {
    this.inFlight.add(page);
    try {
      const result = await this.fetchPage(page * this.pageSize, this.pageSize);
      if (this.closed) {
        return;
      }
      this.total = result.total;
      this.error = null;
      this.pages.set(page, result.items);
    } catch (error) {
      if (this.closed) {
        return;
      }
      this.error = error instanceof Error ? error.message : String(error);
    } finally {
      this.inFlight.delete(page);
    }
    this.onchange();
  }

  private evict(range: Range): void {
    if (this.pages.size < this.maxPages) {
      return;
    }
    const centre = Math.floor((range.start + range.end) / 2 / this.pageSize);
    const byDistance = [...this.pages.keys()].sort((a, b) => Math.abs(b - centre) - Math.abs(a - centre));
    const needed = new Set(pagesFor(range, this.pageSize));
    for (const p of byDistance) {
      if (this.pages.size < this.maxPages) {
        break;
      }
      if (!needed.has(p)) {
        this.pages.delete(p);
      }
    }
  }
}

/**
 * Offset paging over the audit log, whose pages the core keys by sequence number ("the events
 * before `before`", newest first). Sequence numbers run 1..head without gaps (the log is
 * append-only), so row `offset` from the newest is event `head - offset`. The head is fixed when the
 * first page arrives; events appended later show after a refresh.
 */
export function auditFetcher<E extends { seq: number }>(
  page: (before: number | null, limit: number) => Promise<E[]>,
): FetchPage<E> {
  let head: number | null = null;
  return async (offset, limit) => {
    if (head === null) {
      const first = await page(null, limit);
      head = first.length > 0 ? first[0].seq : 0;
      if (offset === 0) {
        return { total: head, items: first };
      }
    }
    const before = head + 1 - offset;
    const items = before > 1 ? await page(before, limit) : [];
    return { total: head, items };
  };
}
