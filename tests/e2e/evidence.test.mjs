// End-to-end tests of the evidence screens on the sample registry: export an audit pack of the whole
// registry, verify it (and see a tampered copy fail), then compute drift on the shared fixture from
// the model page and record the scores to the model.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { By } from 'selenium-webdriver';

import { click, find, repoRoot, textOf, TIMEOUT, type, waitForValue, withApp } from './harness.mjs';

const PASSPHRASE = 'harbour lantern quietly seven orchids';
const DRIFT_BASIC = resolve(repoRoot, '..', 'shared', 'data', 'drift', 'basic');
/** Writing a pack typesets the PDF report (a debug build is slower than release). */
const PACK_TIMEOUT = 240_000;

async function openSample(driver, registryDir) {
  await find(driver, 'create-form');
  await waitForValue(driver, 'field-dir', registryDir);
  await click(driver, 'mode-sample');
  await find(driver, 'sample-form');
  await type(driver, 'field-passphrase', PASSPHRASE);
  await type(driver, 'field-confirm', PASSPHRASE);
  await click(driver, 'submit-sample');
  await find(driver, 'view-home', 120_000);
}

/** With EVIDENCE_SHOTS=DIR, saves a screenshot of the window there (for review). */
async function shot(driver, name) {
  const dir = process.env.EVIDENCE_SHOTS;
  if (dir) {
    // A capture right after a DOM change or a scroll can show the previous frame.
    await sleep(700);
    writeFileSync(join(dir, name), await driver.takeScreenshot(), 'base64');
  }
}

async function countOf(driver, id) {
  return (await driver.findElements(By.css(`[data-testid="${id}"]`))).length;
}

test('audit pack: export the whole registry, verify it, and a changed byte fails verification', async () => {
  const work = mkdtempSync(join(tmpdir(), 'driftwarden-e2e-pack-'));
  try {
    await withApp('evidence pack', async ({ driver, registryDir }) => {
      await openSample(driver, registryDir);
      await click(driver, 'nav-pack');
      await find(driver, 'pack-form');
      const out = join(work, 'pack');
      await type(driver, 'pack-out', out);
      await click(driver, 'pack-submit');

      const summary = await find(driver, 'pack-summary', PACK_TIMEOUT);
      assert.equal(await textOf(driver, 'pack-summary-dir'), out);
      assert.match(await textOf(driver, 'pack-summary-counts'), /4 models/);
      assert.match(await textOf(driver, 'pack-summary-key'), /^[0-9A-F]{16}$/);
      // The file list comes from the manifest written on disk.
      await driver.executeScript('arguments[0].open = true', await find(driver, 'pack-summary-files'));
      const files = await textOf(driver, 'pack-summary-files', 'report.pdf');
      for (const name of ['report.pdf', 'audit-log.jsonl', 'csv/models.csv', 'data/models.json', 'signer.pub']) {
        assert.match(files, new RegExp(name.replace('.', '\\.')), `${name} listed`);
        assert.ok(existsSync(join(out, name)), `${name} on disk`);
      }
      assert.ok(existsSync(join(out, 'manifest.json')), 'manifest.json on disk');
      assert.ok(existsSync(join(out, 'manifest.json.minisig')), 'signature on disk');
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      assert.equal(await countOf(driver, 'pack-file'), manifest.files.length);
      assert.ok(summary);
      await driver.executeScript('arguments[0].scrollIntoView()', summary);
      await shot(driver, 'pack-summary.png');

      await driver.executeScript('arguments[0].open = false', await find(driver, 'pack-summary-files'));
      await click(driver, 'pack-verify');
      assert.match(await textOf(driver, 'pack-verify-verdict', 'Verified'), /Verified all \d+ checks pass/);
      await driver.executeScript('arguments[0].scrollIntoView()', await find(driver, 'pack-verify-result'));
      await shot(driver, 'pack-verified.png');
      assert.ok((await countOf(driver, 'pack-check')) >= manifest.files.length);

      // One byte changed in the report: the same check now fails and names the file.
      const report = join(out, 'report.pdf');
      const bytes = readFileSync(report);
      bytes[bytes.length >> 1] ^= 0x01;
      writeFileSync(report, bytes);
      await type(driver, 'pack-verify-dir', out);
      await click(driver, 'pack-verify-other');
      assert.match(await textOf(driver, 'pack-verify-verdict', 'Failed'), /Failed/);
      assert.match(await textOf(driver, 'pack-verify-result'), /report\.pdf/);
      await driver.executeScript('arguments[0].scrollIntoView()', await find(driver, 'pack-verify-result'));
      await shot(driver, 'pack-tampered.png');
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('compute drift: the fixture gives Evidently’s per-column verdicts and share; scores recorded to the model', async () => {
  const expected = JSON.parse(readFileSync(join(DRIFT_BASIC, 'expected-evidently-default.json'), 'utf8'));
  const columns = Object.keys(expected).filter((k) => k !== '__dataset__');
  await withApp('evidence drift', async ({ driver, registryDir }) => {
    await openSample(driver, registryDir);
    // From the model page: the drift screen opens with the model chosen for recording.
    await click(driver, 'nav-models');
    await click(driver, 'model-link-credit-risk');
    await find(driver, 'model-page');
    await click(driver, 'model-drift');
    await find(driver, 'drift-form');
    const model = await find(driver, 'drift-model');
    await driver.wait(async () => (await model.getAttribute('value')).startsWith('credit-risk@'), TIMEOUT, 'model preselected');
    assert.equal(await (await find(driver, 'drift-record')).isSelected(), true);

    await type(driver, 'drift-reference', join(DRIFT_BASIC, 'reference.csv'));
    await type(driver, 'drift-current', join(DRIFT_BASIC, 'current.csv'));
    await shot(driver, 'drift-form.png');
    await click(driver, 'drift-submit');

    await find(driver, 'drift-result', 120_000);
    assert.equal(await textOf(driver, 'drift-share'), String(expected.__dataset__.share_of_drifted_columns));
    assert.match(await textOf(driver, 'drift-dataset'), expected.__dataset__.dataset_drift ? /^dataset drift/ : /no dataset drift/);
    assert.equal(await countOf(driver, 'drift-row-' + columns[0]), 1);
    // Cells: column, kind, method (rule), score, threshold, drifted, missing.
    for (const name of columns) {
      const row = await find(driver, `drift-row-${name}`);
      const cells = await driver.executeScript('return [...arguments[0].cells].map((c) => c.textContent.trim())', row);
      const e = expected[name];
      assert.equal(cells[0], name);
      assert.equal(cells[1], e.column_type === 'numerical' ? 'numeric' : 'categorical', `${name} kind`);
      assert.match(cells[2], new RegExp(`^${e.method} `), `${name} method ${e.method}`);
      assert.equal(Number(cells[4]), e.threshold, `${name} threshold`);
      assert.equal(cells[5], e.drifted ? 'drifted' : 'no', `${name} drifted = ${e.drifted}`);
      assert.equal(cells[6], '0 / 0', `${name} missing`);
    }
    await driver.executeScript('arguments[0].scrollIntoView()', await find(driver, 'drift-scores-distance'));
    await shot(driver, 'drift-chart.png');

    // 20 column scores and the share, through the core's ingestion path.
    assert.match(await textOf(driver, 'drift-recorded', 'Recorded'), new RegExp(`Recorded ${columns.length + 1} measurements for credit-risk`));

    // A missing file is refused beside its field, naming it.
    await type(driver, 'drift-current', join(DRIFT_BASIC, 'no-such.csv'));
    await click(driver, 'drift-submit');
    assert.match(await textOf(driver, 'drift-current-error', 'no-such.csv'), /no-such\.csv/);
  });
});
