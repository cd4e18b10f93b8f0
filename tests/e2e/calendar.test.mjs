// End-to-end test of the review calendar on the sample registry: the month view shows an item on its
// date (fetched from the core as the person moves months), clicking it opens the record, and the
// overdue items, the kind filter and the agenda behave.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { By, until } from 'selenium-webdriver';

import { click, find, openSample, textOf, TIMEOUT, withApp } from './harness.mjs';

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of today + `days` in UTC, as the sample registry computes its dates. */
function isoDayUtc(days) {
  return new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);
}

/** The month view's cell of `date` (`YYYY-MM-DD`), or null when the month shown does not have it. */
async function dayCell(driver, date) {
  const cells = await driver.findElements(By.css(`[data-testid="calendar-grid"] [role="gridcell"][data-date="${date}"]`));
  return cells[0] ?? null;
}

/** The day cell's text (whole titles, though a narrow cell shows them cut with an ellipsis). */
async function textContent(driver, element) {
  return driver.executeScript('return arguments[0].textContent;', element);
}

/** The text of the day cell of `date` once it shows an event whose text contains `text`. */
async function cellText(driver, date, text) {
  let last = '';
  await driver.wait(
    async () => {
      const cell = await dayCell(driver, date);
      last = cell ? await textContent(driver, cell) : '';
      return last.includes(text);
    },
    TIMEOUT,
    `the cell of ${date} does not show ${text}`,
  );
  return last;
}

test('calendar: month view shows an item on its date; a click opens its record', async () => {
  await withApp('calendar', async ({ driver, registryDir }) => {
    await openSample(driver, registryDir);
    await click(driver, 'nav-calendar');
    // The agenda comes first, with everything overdue above it (the sample's service account is
    // far past its rotation).
    await find(driver, 'calendar-list');
    assert.match(await textOf(driver, 'calendar-overdue', 'svc-credit-scoring'), /overdue[\s\S]*Rotate svc-credit-scoring/);

    await click(driver, 'calendar-view-month');
    await find(driver, 'calendar-grid');
    // credit-risk's approval (signed by Bob in the sample) runs until 95 days from today: a few
    // months ahead. Each move asks the core for the month shown.
    const expiry = isoDayUtc(95);
    const title = 'Approval of credit-risk expires';
    for (let moves = 0; (await dayCell(driver, expiry)) === null; moves += 1) {
      assert.ok(moves < 6, `no month shows ${expiry}`);
      const before = await textOf(driver, 'calendar-title');
      await click(driver, 'calendar-next');
      await driver.wait(async () => (await textOf(driver, 'calendar-title')) !== before, TIMEOUT, 'the month changes');
    }
    assert.match(await cellText(driver, expiry, title), /Approval of credit-risk expires/);

    // The kind filter hides approvals and shows them again.
    await click(driver, 'calendar-kind-approval');
    await driver.wait(async () => !(await textContent(driver, await dayCell(driver, expiry))).includes(title), TIMEOUT, 'approvals hidden');
    await click(driver, 'calendar-kind-approval');
    await cellText(driver, expiry, title);

    // Click the item: the model page opens.
    // (FullCalendar also keeps a hidden copy of each event, for measuring: click the one shown.
    // It may still be re-rendering after the filter change, so look again until one is shown.)
    const shownEvent = async () => {
      const cell = await dayCell(driver, expiry);
      const events = cell
        ? await cell.findElements(By.xpath(`.//*[@data-testid="calendar-event"][contains(., "${title}")]`))
        : [];
      for (const event of events) {
        if (await event.isDisplayed().catch(() => false)) {
          return event;
        }
      }
      return null;
    };
    let shown = null;
    await driver.wait(async () => (shown = await shownEvent()) !== null, TIMEOUT).catch(() => {});
    assert.ok(shown, `the event ${title} is shown`);
    await shown.click();
    await find(driver, 'model-page');
    const heading = await driver.wait(until.elementLocated(By.css('#model-title')), TIMEOUT);
    await driver.wait(until.elementTextContains(heading, 'credit-risk'), TIMEOUT);
    assert.match(await heading.getText(), /^credit-risk/);
  });
});
