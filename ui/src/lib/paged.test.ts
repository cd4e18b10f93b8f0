import { describe, expect, it } from 'vitest';
import { auditFetcher, moveActive, PageCache, pagesFor, scrollToShow, visibleRange, windowAt, type Page } from './paged';

/** A table of `total` numbered rows served a page at a time, recording every fetch. */
function source(total: number) {
  const calls: [number, number][] = [];
  const fetchPage = (offset: number, limit: number): Promise<Page<number>> => {
    calls.push([offset, limit]);
    const items: number[] = [];
    for (let i = offset; i < Math.min(total, offset + limit); i++) {
      items.push(i);
    }
    return Promise.resolve({ total, items });
  };
  return { calls, fetchPage };
}

describe('visibleRange', () => {
  it('shows the rows under the viewport plus overscan, clamped to the table', () => {
    expect(visibleRange(0, 400, 40, 10_000, 5)).toEqual({ start: 0, end: 16 });
    expect(visibleRange(4000, 400, 40, 10_000, 5)).toEqual({ start: 95, end: 116 });
    // Scrolled to the very end: the last row is included, nothing past it.
    expect(visibleRange(40 * 10_000 - 400, 400, 40, 10_000, 5)).toEqual({ start: 9985, end: 10_000 });
  });

  it('is empty for an empty table and never negative', () => {
    expect(visibleRange(0, 400, 40, 0)).toEqual({ start: 0, end: 0 });
    expect(visibleRange(-50, 400, 40, 3, 5)).toEqual({ start: 0, end: 3 });
  });

  it('keeps the number of rows bounded by the viewport, whatever the total', () => {
    const r = visibleRange(123_456, 600, 40, 5_000_000, 5);
    expect(r.end - r.start).toBeLessThanOrEqual(600 / 40 + 1 + 10);
  });
});

describe('pagesFor', () => {
  it('names each page a range touches, once', () => {
    expect(pagesFor({ start: 0, end: 16 }, 100)).toEqual([0]);
    expect(pagesFor({ start: 95, end: 116 }, 100)).toEqual([0, 1]);
    expect(pagesFor({ start: 100, end: 200 }, 100)).toEqual([1]);
    expect(pagesFor({ start: 5, end: 5 }, 100)).toEqual([]);
  });
});

describe('scrollToShow and moveActive', () => {
  it('scrolls only as far as needed to show a row', () => {
    expect(scrollToShow(10, 0, 400, 40, 1000)).toBe(40); // below: its bottom at the viewport's bottom
    expect(scrollToShow(2, 400, 400, 40, 1000)).toBe(80); // above: at the top
    expect(scrollToShow(12, 400, 400, 40, 1000)).toBe(400); // already visible
  });

  it('maps scroll positions proportionally when the rows would be taller than the browser allows', () => {
    const total = 1_000_000;
    const height = 600;
    const end = windowAt(1e12, height, 36, total, 5, 8_000_000);
    expect(end.contentHeight).toBe(8_000_000);
    expect(end.end).toBe(total);
    expect(end.padTop + (end.end - end.start) * 36 + end.padBottom).toBeCloseTo(8_000_000, 3);
    for (const index of [0, 1, 123_457, 500_000, total - 1]) {
      const top = scrollToShow(index, 0, height, 36, total, 8_000_000);
      expect(top).toBeLessThanOrEqual(8_000_000 - height);
      const w = windowAt(top, height, 36, total, 0, 8_000_000);
      expect(index).toBeGreaterThanOrEqual(w.start);
      expect(index).toBeLessThan(w.end);
      // The row's pixels are inside the viewport.
      const rowTop = w.padTop + (index - w.start) * 36;
      expect(rowTop).toBeGreaterThanOrEqual(top - 1e-6);
      expect(rowTop + 36).toBeLessThanOrEqual(top + height + 1e-6);
    }
  });

  it('uses one pixel row per row when the content fits', () => {
    const w = windowAt(4000, 400, 40, 10_000, 5);
    expect(w.contentHeight).toBe(400_000);
    expect(w.padTop).toBe(95 * 40);
    expect(w.padBottom).toBe(400_000 - 116 * 40);
  });

  it('moves the active row with the keys, within the table', () => {
    expect(moveActive('ArrowDown', -1, 50, 10)).toBe(0);
    expect(moveActive('ArrowDown', 49, 50, 10)).toBe(49);
    expect(moveActive('ArrowUp', 0, 50, 10)).toBe(0);
    expect(moveActive('PageDown', 0, 50, 10)).toBe(9);
    expect(moveActive('PageUp', 5, 50, 10)).toBe(0);
    expect(moveActive('End', 0, 50, 10)).toBe(49);
    expect(moveActive('Home', 30, 50, 10)).toBe(0);
    expect(moveActive('a', 3, 50, 10)).toBeNull();
    expect(moveActive('ArrowDown', 0, 0, 10)).toBeNull();
  });
});

describe('PageCache', () => {
  it('fetches the first page, learns the total, then only the pages a range needs', async () => {
    const { calls, fetchPage } = source(1000);
    let changes = 0;
    const cache = new PageCache(fetchPage, () => changes++, 100);
    await cache.ensure({ start: 0, end: 20 });
    expect(cache.total).toBe(1000);
    expect(cache.get(19)).toBe(19);
    expect(cache.get(100)).toBeUndefined();
    await cache.ensure({ start: 90, end: 210 });
    expect(calls).toEqual([
      [0, 100],
      [100, 100],
      [200, 100],
    ]);
    expect(cache.get(205)).toBe(205);
    expect(changes).toBe(3);
    // Held pages are not fetched again.
    await cache.ensure({ start: 0, end: 250 });
    expect(calls).toHaveLength(3);
  });

  it('jumps straight to the end without fetching the pages in between', async () => {
    const { calls, fetchPage } = source(5_000_000);
    const cache = new PageCache(fetchPage, () => {}, 200);
    await cache.ensure({ start: 0, end: 20 });
    await cache.ensure({ start: 4_999_985, end: 5_000_000 });
    expect(calls).toEqual([
      [0, 200],
      [4_999_800, 200],
    ]);
    expect(cache.get(4_999_999)).toBe(4_999_999);
  });

  it('asks once for a page already in flight', async () => {
    const { calls, fetchPage } = source(1000);
    const cache = new PageCache(fetchPage, () => {}, 100);
    await cache.ensure({ start: 0, end: 10 });
    await Promise.all([cache.ensure({ start: 300, end: 310 }), cache.ensure({ start: 305, end: 315 })]);
    expect(calls.filter(([offset]) => offset === 300)).toHaveLength(1);
  });

  it('keeps at most maxPages pages, dropping those farthest from the view', async () => {
    const { fetchPage } = source(100_000);
    const cache = new PageCache(fetchPage, () => {}, 100, 4);
    await cache.ensure({ start: 0, end: 10 });
    for (const start of [100, 200, 300, 400, 500, 600]) {
      await cache.ensure({ start, end: start + 10 });
    }
    expect(cache.pageCount).toBeLessThanOrEqual(4);
    expect(cache.has(6)).toBe(true);
    expect(cache.has(0)).toBe(false);
  });

  it('ignores answers after close (the filter changed meanwhile)', async () => {
    let release: (page: Page<number>) => void = () => {};
    const slow = (): Promise<Page<number>> => new Promise((ok) => (release = ok));
    let changes = 0;
    const cache = new PageCache(slow, () => changes++, 10);
    const pending = cache.ensure({ start: 0, end: 5 });
    cache.close();
    release({ total: 3, items: [1, 2, 3] });
    await pending;
    expect(cache.total).toBeNull();
    expect(changes).toBe(0);
  });

  it('reports a failed fetch and fetches the page again on the next ensure', async () => {
    let fail = true;
    const flaky = (offset: number): Promise<Page<number>> =>
      fail ? Promise.reject(new Error('registry is locked')) : Promise.resolve({ total: 1, items: [offset] });
    const cache = new PageCache(flaky, () => {}, 10);
    await cache.ensure({ start: 0, end: 1 });
    expect(cache.error).toBe('registry is locked');
    fail = false;
    await cache.ensure({ start: 0, end: 1 });
    expect(cache.error).toBeNull();
    expect(cache.get(0)).toBe(0);
  });
});

describe('auditFetcher', () => {
  /** An audit log of `head` events, seq 1..head, paged newest first like the core. */
  function log(head: number) {
    const asked: (number | null)[] = [];
    const page = (before: number | null, limit: number): Promise<{ seq: number }[]> => {
      asked.push(before);
      const top = Math.min(head, (before ?? head + 1) - 1);
      const out: { seq: number }[] = [];
      for (let s = top; s >= 1 && out.length < limit; s--) {
        out.push({ seq: s });
      }
      return Promise.resolve(out);
    };
    return { asked, page };
  }

  it('maps offsets from the newest event to sequence numbers', async () => {
    const { asked, page } = log(1234);
    const fetch = auditFetcher(page);
    const first = await fetch(0, 100);
    expect(first.total).toBe(1234);
    expect(first.items[0].seq).toBe(1234);
    expect(first.items.at(-1)?.seq).toBe(1135);
    const last = await fetch(1200, 100);
    expect(last.items.map((e) => e.seq)).toEqual(Array.from({ length: 34 }, (_, i) => 34 - i));
    expect(asked).toEqual([null, 35]);
  });

  it('finds the head first when the first request is not the first page', async () => {
    const { page } = log(500);
    const fetch = auditFetcher(page);
    const mid = await fetch(200, 100);
    expect(mid.total).toBe(500);
    expect(mid.items[0].seq).toBe(300);
    expect(await fetch(600, 100)).toEqual({ total: 500, items: [] });
  });

  it('is empty for an empty log', async () => {
    const fetch = auditFetcher(log(0).page);
    expect(await fetch(0, 100)).toEqual({ total: 0, items: [] });
  });
});
