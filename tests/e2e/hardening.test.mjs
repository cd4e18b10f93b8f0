// IPC hardening of the real desktop app: from inside the page, commands are invoked directly
// (window.__TAURI_INTERNALS__.invoke, as any script in the page could) with empty payloads,
// payloads of the wrong type, a 10 MB string and a deeply nested value. Each call must be refused
// with an error (a typed {code, message} from the core, or Tauri's argument error) and the app must
// keep answering afterwards: no panic, no hang, the session and the window intact.
//
// Run: TAURI_DRIVER_PORT=4470 xvfb-run -a node --test --test-concurrency=1 hardening.test.mjs

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { find, withApp } from './harness.mjs';

const PASSPHRASE = 'harbour lantern quietly seven orchids';
const MB10 = 10 * 1024 * 1024;

/**
 * Invokes `cmd` in the page with the arguments built by the JavaScript expression `argsJs`
 * (evaluated in the page, so a 10 MB value is made there, not sent over WebDriver).
 * Resolves to {ok, value} or {ok: false, error}.
 */
async function invoke(driver, cmd, argsJs = '{}') {
  return driver.executeAsyncScript(
    `const done = arguments[arguments.length - 1];
     const internals = window.__TAURI_INTERNALS__;
     const channel = () => '__CHANNEL__:' + internals.transformCallback(() => {});
     let args;
     try { args = (${argsJs}); } catch (e) { done({ ok: false, error: 'bad test args: ' + e }); return; }
     internals.invoke(${JSON.stringify(cmd)}, args).then(
       (value) => done({ ok: true, value: value === undefined ? null : value }),
       (error) => done({ ok: false, error: typeof error === 'string' ? error : JSON.parse(JSON.stringify(error)) }),
     );`,
  );
}

/** The call was refused with an error of a known shape; returns a short description. */
function assertRefused(what, result) {
  assert.equal(result.ok, false, `${what}: must be refused, got ${JSON.stringify(result).slice(0, 300)}`);
  const error = result.error;
  if (typeof error === 'string') {
    // Tauri's argument deserialisation error.
    assert.match(error, /invalid args|missing required key|invalid type|expected|recursion limit/i, `${what}: ${error.slice(0, 300)}`);
    assert.ok(error.length < 4096, `${what}: the error does not echo the 10 MB input (${error.length} chars)`);
    return `${what}: ${error.slice(0, 140)}`;
  }
  assert.equal(typeof error?.code, 'string', `${what}: typed error ${JSON.stringify(error).slice(0, 300)}`);
  assert.equal(typeof error?.message, 'string', `${what}: typed error`);
  assert.notEqual(error.code, 'internal', `${what}: no panic or stopped operation (${error.message})`);
  assert.ok(error.message.length < 4096, `${what}: the message does not echo the 10 MB input (${error.message.length} chars)`);
  return `${what}: [${error.code}] ${error.message.slice(0, 140)}`;
}

async function stillAnswers(driver, what, expectOrg) {
  const s = await invoke(driver, 'session');
  assert.equal(s.ok, true, `${what}: session answers: ${JSON.stringify(s).slice(0, 300)}`);
  if (expectOrg) {
    assert.equal(s.value?.org, expectOrg, `${what}: the session is intact`);
  }
  assert.equal(await driver.getTitle(), 'Driftwarden', `${what}: window title intact`);
}

const bigString = `'x'.repeat(${MB10})`;
const nested = `JSON.parse('['.repeat(5000) + ']'.repeat(5000))`;

// Each: [command, arguments expression]. Empty payloads, wrong types, huge and nested values.
const CASES = [
  // empty payloads
  ['show_model', '{}'],
  ['set_policy', '{}'],
  ['add_model', '{}'],
  ['registry_open', '{}'],
  ['registry_create', '{}'],
  ['ingest_file', '{}'],
  ['show_exception', '{}'],
  ['decide_exception', '{}'],
  ['add_nhi', '{}'],
  ['offboard_member', '{}'],
  ['change_passphrase', '{}'],
  // wrong types
  ['show_model', '{ model: 123 }'],
  ['set_policy', '{ key: "approval_days_high", value: "x" }'],
  ['set_policy', '{ key: 42, value: 1.5 }'],
  ['show_exception', '{ id: "abc" }'],
  ['show_exception', '{ id: 1e300 }'],
  ['add_model', '{ input: "not an object" }'],
  ['add_model', '{ input: { name: ["a"], version: {}, owner: null } }'],
  ['registry_open', '{ request: { dir: 5, email: [], passphrase: null } }'],
  ['set_threshold', '{ model: "m", input: { metric: 1, breach: "high" } }'],
  ['audit_log', '{ limit: "all" }'],
  ['ingest_file', '{ path: 7, options: "csv", progress: channel() }'],
  // huge (10 MB) values
  ['show_model', `{ model: ${bigString} }`],
  ['add_model', `{ input: { name: ${bigString}, version: "1.0", owner: "ana@acme.example", intended_use: "x", business_function: "x", risk_tier: "high", regulated: false } }`],
  ['ingest_file', `{ path: ${bigString}, options: { format: "csv" }, progress: channel() }`],
  ['set_policy', `{ key: ${bigString}, value: 5 }`],
  ['registry_open', `{ request: { dir: ${bigString}, email: "ana@acme.example", passphrase: "x" } }`],
  // deeply nested
  ['add_model', `{ input: ${nested} }`],
];

test('IPC: empty, wrong-type, 10 MB and nested payloads are refused with errors; the app keeps answering', async () => {
  await withApp('ipc hardening', async ({ driver, registryDir }) => {
    await find(driver, 'create-form');
    await driver.manage().setTimeouts({ script: 180_000 });
    const seen = [];

    // Locked: every case is refused (argument errors, or `locked`).
    for (const [cmd, args] of CASES) {
      seen.push(assertRefused(`locked ${cmd} ${args.slice(0, 60)}`, await invoke(driver, cmd, args)));
    }
    await stillAnswers(driver, 'after the locked cases');

    // Unlocked: create a registry through the command itself, then the same cases again.
    const created = await invoke(
      driver,
      'registry_create',
      `{ request: { dir: ${JSON.stringify(registryDir)}, registry: { org: "Acme Lending", email: "ana@acme.example", name: "Ana Ortiz", roles: [] }, passphrase: ${JSON.stringify(PASSPHRASE)} } }`,
    );
    assert.equal(created.ok, true, JSON.stringify(created));
    for (const [cmd, args] of CASES) {
      if (cmd === 'registry_create' || cmd === 'registry_open') continue; // would replace the session
      seen.push(assertRefused(`unlocked ${cmd} ${args.slice(0, 60)}`, await invoke(driver, cmd, args)));
      await stillAnswers(driver, `after ${cmd}`, 'Acme Lending');
    }
    // The registry still works for a proper call, and its log verifies.
    const models = await invoke(driver, 'list_models', '{}');
    assert.deepEqual(models, { ok: true, value: [] });
    const verified = await invoke(driver, 'verify_log', '{}');
    assert.equal(verified.ok && verified.value.ok, true, JSON.stringify(verified));
    // A wrong passphrase with a 10 MB passphrase is refused (typed) and leaves the session.
    const open = await invoke(
      driver,
      'registry_open',
      `{ request: { dir: ${JSON.stringify(registryDir)}, email: "ana@acme.example", passphrase: ${bigString} } }`,
    );
    seen.push(assertRefused('registry_open with a 10 MB passphrase', open));
    assert.equal(open.error.code, 'wrong_passphrase');
    await stillAnswers(driver, 'at the end', 'Acme Lending');
    console.log(`${seen.length} malformed IPC calls refused:\n  ${seen.join('\n  ')}`);
  });
});
