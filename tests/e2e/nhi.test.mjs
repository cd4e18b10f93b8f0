// End-to-end: NHI governance in the desktop app, on the sample registry (signed in as Ana Ortiz,
// admin and owner of svc-credit-scoring, whose rotation is overdue).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { By, until } from 'selenium-webdriver';

import { choose, click, find, openSample, textOf, TIMEOUT, type, withApp } from './harness.mjs';

const finding = (code) => By.css(`[data-testid="nhi-finding"][data-code="${code}"]`);

test('an overdue rotation recorded from the NHI page clears its finding; home shows the posture', async () => {
  await withApp('nhi rotation', async ({ driver, registryDir }) => {
    await openSample(driver, registryDir);

    // Home: the posture panel and the next 14 days.
    const compliance = await textOf(driver, 'posture-compliance', '%');
    assert.match(compliance, /^\d+%$/);
    assert.match(await textOf(driver, 'posture-findings', 'NHI7'), /Rotation overdue/);
    await find(driver, 'home-upcoming');

    // The inventory, filtered to identities with an open finding, links to the NHI page.
    await click(driver, 'nav-nhis');
    await textOf(driver, 'nhis-table', 'svc-credit-scoring');
    await choose(driver, 'nhi-filter-finding', 'rotation-overdue');
    // (The inventory is a virtualised table of fixed-height rows whose cells cut long text with an
    // ellipsis: read each row's whole text.)
    const overdueRows = async () => {
      const rows = await driver.findElements(By.css('[data-testid="nhi-row"]'));
      return Promise.all(rows.map((row) => driver.executeScript('return arguments[0].textContent;', row)));
    };
    await driver.wait(async () => (await overdueRows()).length === 3, TIMEOUT, 'three overdue identities listed');
    for (const row of await overdueRows()) {
      assert.match(row, /Rotation overdue/);
    }
    assert.ok(!(await overdueRows()).some((row) => row.includes('fraud-feature-store')), 'a rotated one is not listed');
    await type(driver, 'nhi-search', 'svc-credit');
    await driver.wait(async () => (await overdueRows()).length === 1, TIMEOUT, 'the search narrows to one');
    await click(driver, 'nhi-link');

    // The NHI page: the finding, the blast radius, then the rotation.
    assert.match(await textOf(driver, 'nhi-page', 'svc-credit-scoring'), /svc-credit-scoring/);
    const overdue = await driver.wait(until.elementLocated(finding('rotation-overdue')), TIMEOUT);
    assert.match(await overdue.getText(), /NHI7/);
    assert.match(await textOf(driver, 'blast-radius', 'credit-risk'), /credit-risk/);
    const before = await textOf(driver, 'nhi-last-rotated');

    await click(driver, 'open-rotate');
    await find(driver, 'rotate-form');
    await click(driver, 'rotate-submit');
    assert.match(await textOf(driver, 'nhi-notice', 'recorded'), /Rotation on .* recorded/);

    // The finding is gone; the rotation date moved; the history has the event.
    await driver.wait(async () => (await driver.findElements(finding('rotation-overdue'))).length === 0, TIMEOUT,
      'the rotation-overdue finding is still shown');
    assert.notEqual(await textOf(driver, 'nhi-last-rotated'), before);
    const history = await driver.findElements(By.css('[data-testid="nhi-timeline"] [data-operation="nhi.rotate"]'));
    assert.equal(history.length, 1, 'one rotation event in the history');

    // Back in the inventory, it is no longer among the overdue ones.
    await click(driver, 'nav-nhis');
    await choose(driver, 'nhi-filter-finding', 'rotation-overdue');
    await driver.wait(async () => (await overdueRows()).length === 2, TIMEOUT, 'two overdue identities left');
    assert.ok(!(await overdueRows()).some((row) => row.includes('svc-credit-scoring')));

    // Linking an identity to a model: the model field suggests the core's matches for what is
    // typed (a search, not a list of every model).
    await click(driver, 'open-link-nhi');
    await type(driver, 'link-nhi-name', 'bureau-api-key');
    await type(driver, 'link-model', 'pricing');
    // (Read in one script: the picker re-renders its options as the core's answers arrive.)
    const suggested = () => driver.executeScript(
      "return [...document.querySelectorAll('#link-model-options option')].map((o) => o.value);");
    await driver.wait(async () => (await suggested()).join() === 'pricing-optimizer@2.0', TIMEOUT,
      'the picker suggests the one matching model');
    await type(driver, 'link-model', 'pricing-optimizer@2.0');
    await type(driver, 'link-usage', 'Prices applications with bureau data');
    await click(driver, 'link-submit');
    assert.match(await textOf(driver, 'nhis-notice', 'linked'), /bureau-api-key is linked to pricing-optimizer/);
  });
});
