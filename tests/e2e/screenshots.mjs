// Refreshes docs/screenshots/*.png: drives the real app under Xvfb (run via `make screenshots`,
// which wraps this in xvfb-run) and captures the X screen with ImageMagick.
//   first-run.png   the create / open / sample screen
//   home.png        what needs me, on the sample registry
//   model.png       a model page with its drift chart
//   approval.png    the approval form: gate checklist and what is missing
//   exception.png   an exception page: what happened, who acts, the disposition form
//   exception-sign.png  the statement the accountable owner signs
//   calendar-month.png  the review calendar's month view: every date someone must act on
// With SCREENSHOTS_EXTRA=DIR it also captures other screens into DIR, for review.

import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { By, until } from 'selenium-webdriver';

import { click, find, repoRoot, textOf, type, waitForValue, withApp } from './harness.mjs';

const docs = join(repoRoot, 'docs', 'screenshots');
const extra = process.env.SCREENSHOTS_EXTRA;
mkdirSync(docs, { recursive: true });
if (extra) {
  mkdirSync(extra, { recursive: true });
}

// A capture right after a DOM change can show the previous frame: wait for the element, then a beat.
async function capture(dir, name) {
  if (!dir) {
    return;
  }
  await sleep(700);
  const path = join(dir, name);
  execFileSync('import', ['-window', 'root', path]);
  console.log(`wrote ${path}`);
}

/** Scrolls the element with this data-testid to the top of the content area. */
async function scrollTo(driver, id) {
  const element = await find(driver, id);
  await driver.executeScript("arguments[0].scrollIntoView({ block: 'start' });", element);
}

const PASSPHRASE = 'harbour lantern quietly seven orchids';
// A readable folder for the picture; removed before and after.
const demoRoot = join(tmpdir(), 'driftwarden-demo');
const demoDir = join(demoRoot, 'acme-registry');
rmSync(demoRoot, { recursive: true, force: true });

try {
  await withApp(
    'screenshots',
    async ({ driver, registryDir }) => {
      await find(driver, 'create-form');
      await waitForValue(driver, 'field-dir', registryDir);
      await type(driver, 'field-org', 'Acme Lending');
      await type(driver, 'field-name', 'Ana Ortiz');
      await type(driver, 'field-email', 'ana@acme.example');
      await type(driver, 'field-passphrase', PASSPHRASE);
      await type(driver, 'field-confirm', PASSPHRASE);
      await find(driver, 'strength-label');
      await capture(docs, 'first-run.png');

      // The living product: the sample registry, signed in as Ana Ortiz (admin, owner).
      await click(driver, 'mode-sample');
      await type(driver, 'field-dir', join(demoRoot, 'northwind-sample'));
      await type(driver, 'field-passphrase', PASSPHRASE);
      await type(driver, 'field-confirm', PASSPHRASE);
      await click(driver, 'submit-sample');
      await find(driver, 'view-home', 120_000);
      await textOf(driver, 'inbox', 'credit-risk');
      await capture(docs, 'home.png');

      await click(driver, 'nav-models');
      await click(driver, 'model-link-credit-risk');
      await find(driver, 'drift-chart-psi');
      await scrollTo(driver, 'drift-section');
      await capture(docs, 'model.png');
      if (extra) {
        await scrollTo(driver, 'model-page');
        await capture(extra, 'model-top.png');
        await scrollTo(driver, 'model-timeline');
        await capture(extra, 'model-timeline.png');
      }

      // The approval form of a model whose gate is incomplete.
      await click(driver, 'nav-models');
      await click(driver, 'model-link-pricing-optimizer');
      await click(driver, 'open-approve');
      await find(driver, 'gate-list');
      await textOf(driver, 'gate-summary', 'missing');
      await scrollTo(driver, 'approve-form');
      await capture(docs, 'approval.png');

      // The escalated credit-risk exception: Ana decides its disposition.
      await click(driver, 'nav-exceptions');
      await find(driver, 'exceptions-table');
      // The table fetches its rows a page at a time: wait for the first ones.
      await find(driver, 'exception-row');
      const first = await driver.executeScript(
        `const row = [...document.querySelectorAll('[data-testid="exception-row"]')]
           .find((r) => r.textContent.includes('credit-risk'));
         return row ? row.querySelector('button').getAttribute('data-testid') : null;`,
      );
      if (extra) {
        await capture(extra, 'exceptions.png');
      }
      await click(driver, first);
      await find(driver, 'exception-page');
      await scrollTo(driver, 'exception-page');
      await capture(docs, 'exception.png');
      if ((await driver.findElements({ css: '[data-testid="decide-form"]' })).length > 0) {
        await type(driver, 'decide-rationale', 'Income distribution shifted after the autumn campaign; retrain on Q3 data and revalidate.');
        await click(driver, 'decide-review');
        await find(driver, 'decide-statement');
        await scrollTo(driver, 'decide-section');
        await capture(docs, 'exception-sign.png');
      }

      // The review calendar, month view: deadlines coloured by kind, overdue ones marked.
      await click(driver, 'nav-calendar');
      await find(driver, 'calendar-list');
      await click(driver, 'calendar-view-month');
      await find(driver, 'calendar-grid');
      await driver.wait(
        until.elementLocated(By.css('[data-testid="calendar-grid"] [role="gridcell"] [data-testid="calendar-event"]')),
        30_000,
      );
      await sleep(500);
      await scrollTo(driver, 'calendar-card');
      await capture(docs, 'calendar-month.png');

      if (extra) {
        await click(driver, 'nav-audit');
        await find(driver, 'audit-table');
        await find(driver, 'audit-row');
        await find(driver, 'chain-verified');
        await capture(extra, 'audit.png');
        await click(driver, 'nav-nhis');
        await find(driver, 'nhis-table');
        await capture(extra, 'nhis.png');
        await click(driver, 'nav-members');
        await find(driver, 'members-table');
        await capture(extra, 'members.png');
        await click(driver, 'nav-models');
        await find(driver, 'models-table');
        await find(driver, 'model-row');
        await capture(extra, 'models.png');
        await click(driver, 'nav-calendar');
        await find(driver, 'calendar-list');
        await find(driver, 'calendar-event');
        await capture(extra, 'calendar.png');
      }
    },
    { registryDir: demoDir },
  );
} finally {
  rmSync(demoRoot, { recursive: true, force: true });
}
