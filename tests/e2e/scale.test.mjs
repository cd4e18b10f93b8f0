// Scale: a registry seeded by the real CLI (`driftwarden dev seed`, thousands of models and tens of
// thousands of audit events) opened in the real app. The Models, Exceptions and Audit tables show
// the core's totals but hold only the rows in view; scrolling to the end fetches the last page and
// the last model opens; the hot model's drift chart is downsampled by the core. The NHI inventory
// is paged the same way, and the calendar's month shows "+N more" on a dense day.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { By, Key } from 'selenium-webdriver';

import { choose, click, find, repoRoot, saveScreenshot, textOf, TIMEOUT, type, withApp } from './harness.mjs';

const MODELS = 2000;
const PASSPHRASE = 'harbour lantern quietly seven orchids';
const ADMIN = 'admin@seed.example';

function cli() {
  const path = join(process.env.CARGO_TARGET_DIR ?? join(repoRoot, 'target'), 'debug', 'driftwarden');
  if (!existsSync(path)) {
    throw new Error(`CLI not found at ${path}; build it first (cargo build -p driftwarden-cli)`);
  }
  return path;
}

/** Seeds a registry with the real CLI; returns its folder and the seed's summary. */
function seed(work) {
  const dir = join(work, 'seeded');
  const passFile = join(work, 'passphrase');
  writeFileSync(passFile, `${PASSPHRASE}\n`);
  const out = execFileSync(
    cli(),
    [
      'dev', 'seed', '--registry', dir, '--passphrase-file', passFile,
      '--models', String(MODELS), '--nhis', '2000', '--measurements', '100000', '--events', '20000',
      '--quiet', '--json',
    ],
    { encoding: 'utf8', timeout: 600_000 },
  );
  return { dir, summary: JSON.parse(out) };
}

const rows = async (driver, id) => (await driver.findElements(By.css(`[data-testid="${id}"]`))).length;

/** Scrolls a virtual table's scroll region to its very end. */
async function scrollToEnd(driver, tableId) {
  const scroller = await find(driver, `${tableId}-scroll`);
  await driver.executeScript(
    `const el = arguments[0]; el.scrollTop = el.scrollHeight; el.dispatchEvent(new Event('scroll'));`,
    scroller,
  );
  return scroller;
}

/** Clicks an element of a list that may re-render under the pointer (a filter being applied). */
async function clickSettled(driver, id) {
  await driver.wait(
    async () => {
      try {
        await (await find(driver, id)).click();
        return true;
      } catch (error) {
        if (error.name === 'StaleElementReferenceError') {
          return false;
        }
        throw error;
      }
    },
    TIMEOUT,
    `could not click [data-testid=${id}]`,
  );
}

/** Waits for the row at `index` (0-based) of a virtual table to be rendered with its data. */
async function rowAt(driver, rowId, index) {
  const css = By.css(`[data-testid="${rowId}"][data-index="${index}"]`);
  return driver.wait(async () => (await driver.findElements(css))[0], TIMEOUT, `no ${rowId} at index ${index}`);
}

test('a seeded registry of thousands of models: paged, virtualised tables and a downsampled chart', async () => {
  const work = mkdtempSync(join(tmpdir(), 'driftwarden-e2e-scale-'));
  try {
    const { dir, summary } = seed(work);
    assert.equal(summary.models, MODELS);
    assert.ok(summary.events >= 20_000, `seeded ${summary.events} events`);

    await withApp('scale', async ({ driver }) => {
      // Open the seeded registry as its admin.
      await find(driver, 'create-form');
      await click(driver, 'mode-open');
      await find(driver, 'open-form');
      await type(driver, 'field-dir', dir);
      await type(driver, 'field-email', ADMIN);
      await type(driver, 'field-passphrase', PASSPHRASE);
      await click(driver, 'submit-open');
      await find(driver, 'view-home', 120_000);

      // Home lists the first 25 decisions (the core sends only those) and says how many there
      // are; "Show all" fetches and lists every one.
      const showAll = await find(driver, 'inbox-all', 120_000);
      const decisions = Number((await showAll.getText()).match(/Show all ([\d,]+) decisions/)[1].replace(/,/g, ''));
      assert.ok(decisions > 25, `${decisions} decisions for the admin`);
      assert.equal(await rows(driver, 'inbox-item'), 25);
      await saveScreenshot(driver, 'scale-home');
      await showAll.click();
      await driver.wait(async () => (await rows(driver, 'inbox-item')) === decisions, TIMEOUT, `all ${decisions} decisions listed`);
      assert.equal((await driver.findElements(By.css('[data-testid="inbox-all"]'))).length, 0);

      // Models: the count is the core's total; the DOM holds a window of rows.
      await click(driver, 'nav-models');
      assert.match(await textOf(driver, 'models-count', '2,000'), /2,000 models/);
      await find(driver, 'model-row');
      const table = await find(driver, 'models-table');
      assert.equal(await table.getAttribute('data-total'), String(MODELS));
      const firstRows = await rows(driver, 'model-row');
      assert.ok(firstRows > 0 && firstRows < 100, `${firstRows} model rows in the DOM at the top`);
      await saveScreenshot(driver, 'scale-models');

      // Scroll to the end: the last page arrives, the DOM still holds only a window.
      await scrollToEnd(driver, 'models-table');
      const last = await rowAt(driver, 'model-row', MODELS - 1);
      assert.equal(await last.getAttribute('aria-rowindex'), String(MODELS + 1));
      const endRows = await rows(driver, 'model-row');
      assert.ok(endRows < 100, `${endRows} model rows in the DOM at the end (of ${MODELS})`);
      assert.match(await textOf(driver, 'models-count'), /2,000 models/);

      // Keyboard: End makes the last row active; Enter opens it.
      const scroller = await find(driver, 'models-table-scroll');
      await scroller.sendKeys(Key.END);
      await driver.wait(async () => (await last.getAttribute('aria-current')) === 'true', TIMEOUT, 'End did not activate the last row');
      const link = await last.findElement(By.css('button.row-link'));
      const lastName = await link.getText();
      await scroller.sendKeys(Key.ENTER);
      await find(driver, 'model-page');
      const title = await find(driver, 'model-page');
      await driver.wait(async () => (await title.getText()).includes(lastName), TIMEOUT, `the model page of ${lastName}`);

      // Filters go to the core: a name search narrows the total.
      await click(driver, 'nav-models');
      await textOf(driver, 'models-count', '2,000');
      await type(driver, 'models-search', lastName);
      assert.match(await textOf(driver, 'models-count', ' of 2,000'), /^1 of 2,000 models/);
      await find(driver, `model-link-${lastName}`);

      // The hot model's chart: thousands of measurements, downsampled by the core.
      await type(driver, 'models-search', summary.hot_model);
      await textOf(driver, 'models-count', '1 of 2,000');
      await clickSettled(driver, `model-link-${summary.hot_model}`);
      await find(driver, 'model-page');
      await driver.wait(
        async () => (await driver.findElements(By.css('[data-testid^="drift-downsampled-"]'))).length > 0,
        TIMEOUT,
        'the hot model has a downsampled drift chart',
      );
      const note = await driver.findElement(By.css('[data-testid^="drift-downsampled-"]')).getText();
      const [shown] = note.match(/\(([\d,]+) points\)/).slice(1);
      assert.ok(Number(shown.replace(/,/g, '')) <= 2000, note);

      // Audit log: every event counted, a window of rows, the oldest reachable by scrolling.
      await click(driver, 'nav-audit');
      const total = summary.events.toLocaleString('en');
      assert.match(await textOf(driver, 'audit-count', total), new RegExp(`${total} events`));
      await find(driver, 'audit-row');
      assert.ok((await rows(driver, 'audit-row')) < 100);
      await scrollToEnd(driver, 'audit-table');
      const oldest = await rowAt(driver, 'audit-row', summary.events - 1);
      assert.equal(await oldest.findElement(By.css('td')).getAttribute('textContent'), '1');
      assert.ok((await rows(driver, 'audit-row')) < 100);

      // Exceptions: the total from the core, a window of rows.
      await click(driver, 'nav-exceptions');
      const count = await textOf(driver, 'exceptions-count', 'exception');
      const exceptions = Number(count.match(/^([\d,]+)/)[1].replace(/,/g, ''));
      assert.ok(exceptions > 0, count);
      await find(driver, 'exception-row');
      assert.ok((await rows(driver, 'exception-row')) <= Math.min(exceptions, 100));

      // NHIs: the core's total, a window of rows; a finding filter is counted by the core too.
      await click(driver, 'nav-nhis');
      const nhis = summary.nhis.toLocaleString('en');
      assert.match(await textOf(driver, 'nhis-count', nhis), new RegExp(`^${nhis} identities`));
      await find(driver, 'nhi-row');
      assert.equal(await (await find(driver, 'nhis-table')).getAttribute('data-total'), String(summary.nhis));
      const nhiRows = await rows(driver, 'nhi-row');
      assert.ok(nhiRows > 0 && nhiRows < 100, `${nhiRows} NHI rows in the DOM (of ${summary.nhis})`);
      await saveScreenshot(driver, 'scale-nhis');
      await scrollToEnd(driver, 'nhis-table');
      await rowAt(driver, 'nhi-row', summary.nhis - 1);
      assert.ok((await rows(driver, 'nhi-row')) < 100);
      await choose(driver, 'nhi-filter-finding', 'any');
      const filtered = await textOf(driver, 'nhis-count', ` of ${nhis}`);
      const withFinding = Number(filtered.match(/^([\d,]+) of/)[1].replace(/,/g, ''));
      assert.ok(withFinding > 0 && withFinding < summary.nhis, filtered);

      // Linking an NHI to a model: the model field asks the core for the first matches of what
      // is typed, not for all 2,000 models.
      await click(driver, 'open-link-nhi');
      await find(driver, 'link-model');
      const options = async () => (await driver.findElements(By.css('#link-model-options option'))).length;
      await driver.wait(async () => (await options()) === 20, TIMEOUT, 'the picker offers the first 20 models');
      const hint = new RegExp(`Showing 20 of ${MODELS.toLocaleString('en')} models`);
      await driver.wait(async () => hint.test(await driver.executeScript(
        "return document.querySelector('#link-model ~ .muted')?.textContent ?? '';")), TIMEOUT,
      'the picker says it shows 20 of all the models');
      await saveScreenshot(driver, 'scale-nhi-link');

      // Calendar, month view: a dense day lists a few NHI rotations and "+N more"; the link opens
      // that day's full list. The seeded rotations fall due within a few months of today.
      await click(driver, 'nav-calendar');
      // The agenda comes first, then the overdue panel above it (which moves the layout buttons).
      await find(driver, 'calendar-list');
      assert.match(await textOf(driver, 'calendar-overdue', 'overdue'), /[\d,]+ items overdue/);
      await driver.wait(
        async () => {
          await (await find(driver, 'calendar-view-month')).click();
          return (await driver.findElements(By.css('[data-testid="calendar-grid"]'))).length > 0;
        },
        TIMEOUT,
        'the month view opens',
      );
      const settled = By.css('[data-testid="calendar-grid"]:not(.busy) [data-testid="calendar-event"]');
      let more = [];
      for (let moves = 0; ; moves += 1) {
        await driver.wait(async () => (await driver.findElements(settled)).length > 0, TIMEOUT, 'the month shows events');
        more = await driver.findElements(By.css('[data-testid="calendar-grid"] [data-testid="calendar-more"]'));
        if (more.length > 0) {
          break;
        }
        assert.ok(moves < 4, 'no month with a "+N more" day');
        const before = await textOf(driver, 'calendar-title');
        await click(driver, 'calendar-next');
        await driver.wait(async () => (await textOf(driver, 'calendar-title')) !== before, TIMEOUT, 'the month changes');
      }
      let moreLink = null;
      for (const candidate of more) {
        if (await candidate.isDisplayed().catch(() => false)) {
          moreLink = candidate;
          break;
        }
      }
      assert.ok(moreLink, 'a "+N more" is shown');
      const extra = Number(await moreLink.getAttribute('data-count'));
      const day = await moreLink.getAttribute('data-date');
      assert.ok(extra > 0);
      assert.match(await moreLink.getText(), /^\+[\d,]+ more/);
      await driver.executeScript('arguments[0].scrollIntoView({ block: "center" });', moreLink);
      await saveScreenshot(driver, 'scale-calendar-month');
      await moreLink.click();
      await driver.wait(
        async () => (await (await find(driver, 'calendar-list')).getAttribute('data-layout')) === 'day',
        TIMEOUT,
        'the day list opens',
      );
      await driver.wait(
        async () =>
          (await driver.findElements(By.css('[data-testid="calendar-list"]:not(.busy) [data-testid="calendar-event"]'))).length > extra,
        TIMEOUT,
        `the list of ${day} holds more than the ${extra} left out of the month`,
      );
      assert.equal((await driver.findElements(By.css('[data-testid="calendar-list"] [data-testid="calendar-more"]'))).length, 0);
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
