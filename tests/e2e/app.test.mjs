// End-to-end tests of the desktop app: first run, lock and unlock, and the whole approver workflow
// (register → gate refuses → approve → breach → validate → decide → co-sign → timeline → audit).

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { choose, click, find, gone, openSample, textOf, TIMEOUT, type, waitForAttribute, waitForValue, withApp } from './harness.mjs';

const ORG = 'Acme Lending';
const NAME = 'Ana Ortiz';
const EMAIL = 'ana@acme.example';
const PASSPHRASE = 'harbour lantern quietly seven orchids';

const VICTOR = { name: 'Victor Lee', email: 'victor@acme.example', pass: 'copper meadow violin seventy lakes', role: 'validator' };
const BEA = { name: 'Beatriz Silva', email: 'bea@acme.example', pass: 'granite puzzle autumn ferry candles', role: 'approver' };

async function createRegistry(driver, registryDir) {
  await find(driver, 'create-form');
  // The folder is prefilled with the default (DRIFTWARDEN_REGISTRY).
  await waitForValue(driver, 'field-dir', registryDir);
  await type(driver, 'field-org', ORG);
  await type(driver, 'field-name', NAME);
  await type(driver, 'field-email', EMAIL);
  await type(driver, 'field-passphrase', PASSPHRASE);
  await type(driver, 'field-confirm', PASSPHRASE);
  await find(driver, 'recovery-warning');
  const meter = await find(driver, 'strength-meter');
  await driver.wait(
    async () => Number(await meter.getAttribute('data-score')) >= 3,
    TIMEOUT,
    'the strength meter rates the passphrase strong',
  );
  await click(driver, 'submit-create');
  await find(driver, 'view-home');
}

test('creating a registry lands on Home; a member is added (own passphrase) and offboarded', async () => {
  await withApp('create registry', async ({ driver, registryDir }) => {
    await createRegistry(driver, registryDir);

    assert.equal(await textOf(driver, 'home-org', ORG), ORG);
    assert.equal(await textOf(driver, 'home-member', NAME), NAME);
    assert.match(await textOf(driver, 'header-org'), new RegExp(ORG));
    assert.match(await textOf(driver, 'header-member'), new RegExp(EMAIL));
    assert.equal(await textOf(driver, 'count-members', '1'), '1');
    assert.equal(await textOf(driver, 'count-models', '0'), '0');
    assert.match(await textOf(driver, 'home-decisions', 'Nothing needs'), /Nothing needs your decision/);
    assert.ok(existsSync(registryDir), 'the registry folder exists on disk');

    // The window runs under the strict CSP from tauri.conf.json (no eval, scripts from the app only).
    const evalRefused = await driver.executeScript(
      "try { eval('1'); return false; } catch (error) { return error instanceof EvalError; }",
    );
    assert.equal(evalRefused, true, 'eval is refused by the content security policy');

    // Models shows its empty state; Members lists the creator.
    await click(driver, 'nav-models');
    assert.match(await textOf(driver, 'models-empty', 'Register a model'), /Register a model/);
    await click(driver, 'nav-members');
    assert.match(await textOf(driver, 'members-table', EMAIL), new RegExp(NAME));

    // Add a member (who types their own passphrase), then offboard them with a reason.
    await click(driver, 'open-add-member');
    await type(driver, 'member-name', 'Otto Temp');
    await type(driver, 'member-email', 'otto@acme.example');
    await click(driver, 'member-role-engineer');
    await type(driver, 'member-passphrase', 'short');
    await type(driver, 'member-confirm', 'short');
    await click(driver, 'add-member-submit');
    assert.match(await textOf(driver, 'member-passphrase-error', 'characters'), /at least/);
    await type(driver, 'member-passphrase', 'tidal compass orange eleven ferns');
    await type(driver, 'member-confirm', 'tidal compass orange eleven ferns');
    await click(driver, 'add-member-submit');
    await textOf(driver, 'members-notice', 'Otto Temp');
    await click(driver, 'offboard-otto@acme.example');
    await type(driver, 'offboard-reason', 'Contract ended');
    await click(driver, 'offboard-submit');
    await textOf(driver, 'members-notice', 'offboarded');
    assert.match(await textOf(driver, 'members-table', 'offboarded'), /Otto Temp[\s\S]*offboarded/);
    // The calendar says when nothing is due.
    await click(driver, 'nav-calendar');
    await find(driver, 'calendar-empty');
  });
});

test('a wrong passphrase is refused beside the field; the right one unlocks; a changed one works', async () => {
  await withApp('lock and unlock', async ({ driver, registryDir }) => {
    await createRegistry(driver, registryDir);

    await click(driver, 'lock-button');
    await find(driver, 'open-form');
    // The folder and email of the registry just locked are offered again.
    await waitForValue(driver, 'field-dir', registryDir);
    await waitForValue(driver, 'field-email', EMAIL);

    await type(driver, 'field-passphrase', 'not the passphrase at all');
    await click(driver, 'submit-open');
    const error = await textOf(driver, 'passphrase-error');
    assert.ok(error.length > 0, 'the passphrase field shows the core message');
    assert.equal(await (await find(driver, 'field-passphrase')).getAttribute('aria-invalid'), 'true');
    // Still locked: the shell is not shown.
    assert.equal((await driver.findElements({ css: '[data-testid="shell"]' })).length, 0);

    await type(driver, 'field-passphrase', PASSPHRASE);
    await click(driver, 'submit-open');
    await find(driver, 'view-home');
    assert.equal(await textOf(driver, 'home-org', ORG), ORG);
    assert.equal(await textOf(driver, 'home-member', NAME), NAME);

    // Change the passphrase: a wrong current one is refused beside its field; then the new one unlocks.
    const NEW = 'winter atlas gently nine herons';
    await click(driver, 'nav-members');
    await click(driver, 'open-change-passphrase');
    await type(driver, 'cp-old', 'not my passphrase');
    await type(driver, 'cp-new', NEW);
    await type(driver, 'cp-confirm', NEW);
    await click(driver, 'cp-submit');
    assert.match(await textOf(driver, 'cp-old-error', 'current'), /not your current passphrase/i);
    await type(driver, 'cp-old', PASSPHRASE);
    await type(driver, 'cp-new', NEW);
    await type(driver, 'cp-confirm', NEW);
    await click(driver, 'cp-submit');
    await find(driver, 'cp-done');
    await click(driver, 'lock-button');
    await type(driver, 'field-passphrase', NEW);
    await click(driver, 'submit-open');
    await find(driver, 'view-home');
  });
});

// ---- The approver workflow ------------------------------------------------------------------

async function addMember(driver, member) {
  await click(driver, 'nav-members');
  await click(driver, 'open-add-member');
  await type(driver, 'member-name', member.name);
  await type(driver, 'member-email', member.email);
  await click(driver, `member-role-${member.role}`);
  // The new member types their own passphrase.
  await type(driver, 'member-passphrase', member.pass);
  await type(driver, 'member-confirm', member.pass);
  await click(driver, 'add-member-submit');
  await textOf(driver, 'members-notice', member.name);
  await textOf(driver, 'members-table', member.email);
}

async function signInAs(driver, email, pass) {
  await click(driver, 'lock-button');
  await find(driver, 'open-form');
  await type(driver, 'field-email', email);
  await type(driver, 'field-passphrase', pass);
  await click(driver, 'submit-open');
  await find(driver, 'view-home');
  assert.match(await textOf(driver, 'header-member', email), new RegExp(email));
}

async function openModel(driver, name) {
  await click(driver, 'nav-models');
  await click(driver, `model-link-${name}`);
  await find(driver, 'model-page');
}

function isoDay(offsetDays) {
  const d = new Date(Date.now() + offsetDays * 86_400_000);
  return d.toISOString().slice(0, 10);
}

test('approver workflow: gate refuses, approve, breach, validate, decide, co-sign, timeline, audit', async () => {
  const work = mkdtempSync(join(tmpdir(), 'driftwarden-e2e-csv-'));
  const csv = join(work, 'credit-risk-psi.csv');
  writeFileSync(
    csv,
    [
      'model,version,metric,value,observed_at',
      `credit-risk,1.0,psi,0.04,${isoDay(-3)}T09:00:00Z`,
      `credit-risk,1.0,psi,0.13,${isoDay(-2)}T09:00:00Z`,
      `credit-risk,1.0,psi,0.31,${isoDay(-1)}T09:00:00Z`,
      '',
    ].join('\n'),
  );
  try {
    await withApp('approver workflow', async ({ driver, registryDir }) => {
      await createRegistry(driver, registryDir);

      // Ana (admin, owner) adds a validator and a business approver; each types their passphrase.
      await addMember(driver, VICTOR);
      await addMember(driver, BEA);

      // Register a regulated model (its dispositions need the business approver's co-sign).
      await click(driver, 'nav-models');
      await click(driver, 'open-register');
      await type(driver, 'model-name', 'credit-risk');
      await type(driver, 'model-version', '1.0');
      await type(driver, 'model-use', 'Scores consumer credit applications');
      await type(driver, 'model-function', 'Consumer lending');
      await click(driver, 'model-regulated');
      await click(driver, 'register-submit');
      await find(driver, 'model-page');
      assert.equal(await textOf(driver, 'model-approval-status', 'pending'), 'pending');
      assert.match(await textOf(driver, 'model-owner', EMAIL), new RegExp(NAME));

      // Decision rights.
      await click(driver, 'open-rights');
      await click(driver, `rights-alert-${EMAIL}`);
      await choose(driver, 'rights-validator', VICTOR.email);
      await choose(driver, 'rights-approver', BEA.email);
      await choose(driver, 'rights-rollback', EMAIL);
      await click(driver, 'rights-submit');
      await textOf(driver, 'model-notice', 'Decision rights saved');
      assert.match(await textOf(driver, 'rights-validator-value', VICTOR.email), new RegExp(VICTOR.name));
      assert.match(await textOf(driver, 'rights-approver-value', BEA.email), new RegExp(BEA.name));

      // Try to approve with no threshold: the checklist shows it missing and the core refuses.
      await click(driver, 'open-approve');
      await find(driver, 'gate-list');
      await waitForAttribute(driver, 'gate-threshold', 'data-ok', 'false');
      assert.match(await textOf(driver, 'gate-threshold', 'Missing'), /a drift threshold/);
      assert.match(await textOf(driver, 'gate-summary', 'missing'), /1 of 7 items are missing/);
      await click(driver, 'approve-review');
      await textOf(driver, 'approve-statement', 'You are signing');
      await click(driver, 'approve-sign');
      const refused = await textOf(driver, 'approve-error', 'refused');
      assert.match(refused, /release gate refused/i);
      assert.match(await textOf(driver, 'approve-missing', 'threshold'), /a drift threshold/);

      // Propose the threshold (from the gate's own link).
      await click(driver, 'open-threshold');
      await type(driver, 'threshold-metric', 'psi');
      await type(driver, 'threshold-warn', '0.1');
      await type(driver, 'threshold-breach', '0.25');
      await click(driver, 'threshold-submit');
      await textOf(driver, 'model-notice', 'proposed');
      assert.match(await textOf(driver, 'thresholds-table', 'proposed'), /psi/);

      // The business approver signs in and approves.
      await signInAs(driver, BEA.email, BEA.pass);
      const inboxItem = await textOf(driver, 'inbox', 'Approve the release');
      assert.match(inboxItem, /credit-risk/);
      await openModel(driver, 'credit-risk');
      await click(driver, 'open-approve');
      await waitForAttribute(driver, 'gate-threshold', 'data-ok', 'true');
      assert.match(await textOf(driver, 'gate-summary', 'in place'), /All 7 items are in place/);
      await type(driver, 'approve-until', isoDay(90));
      await click(driver, 'approve-review');
      const statement = await textOf(driver, 'approve-statement', 'credit-risk');
      assert.match(statement, /approve credit-risk version 1\.0/);
      assert.match(statement, /psi: warn 0\.1, breach 0\.25/);
      await click(driver, 'approve-sign');
      await textOf(driver, 'model-notice', 'Approved until');
      assert.equal(await textOf(driver, 'model-approval-status', 'approved'), 'approved');
      assert.match(await textOf(driver, 'approval-signature', 'Verified'), new RegExp(`Verified.*${BEA.name}`));

      // Import a measurement file that breaches (any member may import).
      await click(driver, 'model-import');
      await type(driver, 'import-path', csv);
      await click(driver, 'import-submit');
      await textOf(driver, 'import-summary', 'Imported 3 measurements');
      assert.equal(await textOf(driver, 'import-breaches', '1'), '1');
      assert.match(await textOf(driver, 'import-opened', 'exception #'), /exception #1/);

      // The drift chart of psi is on the model page, with the exception in it.
      await openModel(driver, 'credit-risk');
      await find(driver, 'drift-chart-psi');
      assert.match(await textOf(driver, 'model-exceptions', 'opened'), /#1/);

      // The validator confirms the signal.
      await signInAs(driver, VICTOR.email, VICTOR.pass);
      assert.match(await textOf(driver, 'inbox', 'Validate'), /psi breach/);
      await click(driver, 'nav-exceptions');
      await click(driver, 'exception-link-1');
      assert.equal(await textOf(driver, 'exception-state', 'opened'), 'opened');
      await click(driver, 'verdict-confirm');
      await click(driver, 'validate-submit');
      await textOf(driver, 'exception-notice', 'confirmed');
      assert.equal(await textOf(driver, 'exception-state', 'confirmed'), 'confirmed');
      assert.match(await textOf(driver, 'waiting-owner', NAME), /Waiting on the accountable owner/);

      // The accountable owner decides; the rationale is required.
      await signInAs(driver, EMAIL, PASSPHRASE);
      await click(driver, 'nav-exceptions');
      await click(driver, 'exception-link-1');
      await choose(driver, 'decide-disposition', 'retrain');
      await click(driver, 'decide-review');
      assert.match(await textOf(driver, 'decide-rationale-error', 'required'), /rationale is required/i);
      await type(driver, 'decide-rationale', 'Applicant mix shifted after the autumn campaign; retrain on Q3 data.');
      await click(driver, 'decide-review');
      const decision = await textOf(driver, 'decide-statement', 'Retrain');
      assert.match(decision, /co-signs/);
      await click(driver, 'decide-sign');
      await textOf(driver, 'exception-notice', 'decided');
      assert.equal(await textOf(driver, 'exception-state', 'decided'), 'decided');
      assert.match(await textOf(driver, 'exception-signoffs', 'Verified'), /Verified disposition by Ana Ortiz/);

      // The business approver co-signs, which closes it.
      await signInAs(driver, BEA.email, BEA.pass);
      await click(driver, 'nav-exceptions');
      await choose(driver, 'exceptions-state-filter', '');
      await click(driver, 'exception-link-1');
      await click(driver, 'cosign-review');
      assert.match(await textOf(driver, 'cosign-statement', 'co-sign'), /Retrain the model/);
      await click(driver, 'cosign-sign');
      await textOf(driver, 'exception-notice', 'closed');
      assert.equal(await textOf(driver, 'exception-state', 'closed'), 'closed');
      const signatures = await textOf(driver, 'exception-signoffs', 'cosign');
      assert.match(signatures, /Verified cosign by Beatriz Silva/);

      // The model's timeline shows the closed exception.
      await click(driver, 'exception-model-link');
      await find(driver, 'model-page');
      const timeline = await textOf(driver, 'model-timeline', 'co-signed');
      assert.match(timeline, /Disposition co-signed; exception closed/);
      assert.match(timeline, /Release approved \(signed\)/);
      // One read of the model's record: its own, its thresholds' and its exceptions' events.
      const operations = await driver.executeScript(
        "return [...document.querySelectorAll('[data-testid=\"model-timeline\"] [data-testid=\"timeline-event\"]')]"
        + '.map((e) => e.dataset.operation);');
      for (const op of ['model.register', 'threshold.propose', 'exception.open', 'exception.cosign']) {
        assert.ok(operations.includes(op), `${op} in the model timeline (${operations.join(', ')})`);
      }
      // The approval, the disposition and the co-signature each show their verified signature.
      const timelineSignatures = await driver.executeScript(
        "return [...document.querySelectorAll('[data-testid=\"model-timeline\"] [data-testid=\"timeline-signature\"]')]"
        + '.map((e) => e.textContent.replace(/\\s+/g, \' \').trim());');
      for (const kind of ['approval', 'disposition', 'cosign']) {
        assert.ok(timelineSignatures.some((t) => t.startsWith('✓ Signature verified') && t.endsWith(kind)),
          `a verified ${kind} signature in the model timeline (${timelineSignatures.join(' | ')})`);
      }
      assert.match(await textOf(driver, 'model-exceptions', 'closed'), /closed/);

      // The audit log verifies.
      await click(driver, 'nav-audit');
      assert.match(await textOf(driver, 'chain-verified', 'verified'), /Chain verified/);
      await type(driver, 'audit-search', 'cosign');
      await textOf(driver, 'audit-table', 'exception.cosign');
      await gone(driver, 'chain-broken');
      assert.match(await textOf(driver, 'head-status', 'rolled back'), /Not rolled back/);

      // The review calendar lists the approval's expiry.
      await click(driver, 'nav-calendar');
      assert.match(await textOf(driver, 'calendar-list', 'credit-risk'), /approval expires/);
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('try it with sample data: a living registry, what needs me first, a drift chart', async () => {
  await withApp('sample data', async ({ driver, registryDir }) => {
    await openSample(driver, registryDir);
    assert.match(await textOf(driver, 'home-org', 'sample'), /Northwind Lending/);
    // Ana owns credit-risk: its escalated breach waits for her disposition, and more.
    const inbox = await textOf(driver, 'inbox', 'credit-risk');
    assert.match(inbox, /credit-risk/);
    assert.ok(Number(await textOf(driver, 'count-exceptions')) >= 1, 'open exceptions are counted');
    assert.equal(await textOf(driver, 'count-models', '4'), '4');

    await openModel(driver, 'credit-risk');
    await find(driver, 'drift-chart-psi');
    assert.match(await textOf(driver, 'approval-signature', 'Verified'), /Verified/);
    assert.match(await textOf(driver, 'model-nhi-findings', 'NHI'), /svc-credit-scoring/);

    await click(driver, 'nav-nhis');
    await textOf(driver, 'nhis-table', 'bureau-api-key');
  });
});
