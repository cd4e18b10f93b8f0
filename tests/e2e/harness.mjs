// Test harness: runs the real desktop app under tauri-driver (which starts WebKitWebDriver, which
// starts the app) and hands each test a WebDriver session on it.
//
// - tauri-driver is started per test with DRIFTWARDEN_REGISTRY set to a fresh temp folder, so every
//   test begins from a first run; it is stopped with SIGTERM (which also ends WebKitWebDriver; SIGKILL
//   would orphan it).
// - Sessions are created with `WebDriver.createSession` on a plain HTTP executor: no browserName, no
//   Builder, so selenium-webdriver never looks for a local browser or driver (selenium-manager).
// - The session is always deleted (WebKitWebDriver allows one at a time); on failure a screenshot
//   is saved to tests/e2e/artifacts/.

import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { By, until, WebDriver } from 'selenium-webdriver';
import { Executor, HttpClient } from 'selenium-webdriver/http/index.js';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
export const artifacts = join(here, 'artifacts');

const PORT = Number(process.env.TAURI_DRIVER_PORT ?? 4444);
const NATIVE_PORT = PORT + 1;
const SERVER = `http://127.0.0.1:${PORT}/`;

/** Default wait for an element or a condition. Key derivation (Argon2id, 64 MiB) is included. */
export const TIMEOUT = 30_000;

export function appPath() {
  const targetDir = process.env.CARGO_TARGET_DIR
    ? resolve(repoRoot, process.env.CARGO_TARGET_DIR)
    : join(repoRoot, 'target');
  const path = resolve(process.env.DRIFTWARDEN_APP ?? join(targetDir, 'debug', 'driftwarden-desktop'));
  if (!existsSync(path)) {
    throw new Error(`app binary not found at ${path}; build it first (make ui && cargo build)`);
  }
  return path;
}

async function waitForServer(child, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  let lastError;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`tauri-driver exited early with code ${child.exitCode}`);
    }
    try {
      const response = await fetch(`${SERVER}status`);
      if (response.ok) {
        return;
      }
      lastError = new Error(`status ${response.status}`);
    } catch (error) {
      lastError = error;
    }
    await sleep(100);
  }
  throw new Error(`tauri-driver did not answer on ${SERVER}: ${lastError}`);
}

async function startDriver(env, logName) {
  mkdirSync(artifacts, { recursive: true });
  const log = createWriteStream(join(artifacts, logName));
  await new Promise((ok) => log.once('open', ok));
  // The driver's output goes to a file, never to a pipe the test run waits on.
  const child = spawn('tauri-driver', ['--port', String(PORT), '--native-port', String(NATIVE_PORT)], {
    env,
    stdio: ['ignore', log, log],
  });
  const spawned = new Promise((ok, fail) => {
    child.once('spawn', ok);
    child.once('error', fail);
  });
  await spawned;
  return { child, log };
}

async function stopDriver({ child, log }) {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((ok) => child.once('exit', ok));
    child.kill('SIGTERM');
    const timedOut = await Promise.race([exited.then(() => false), sleep(10_000).then(() => true)]);
    if (timedOut) {
      child.kill('SIGKILL');
      await exited;
    }
  }
  log.end();
}

function safeName(name) {
  return name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();
}

/**
 * Runs `body({ driver, registryDir })` against a freshly started app whose default registry folder
 * (`DRIFTWARDEN_REGISTRY`) is a new, empty temp folder (or `options.registryDir`, which must not
 * exist yet).
 */
export async function withApp(testName, body, options = {}) {
  const application = appPath();
  const base = await mkdtemp(join(tmpdir(), 'driftwarden-e2e-'));
  const registryDir = options.registryDir ?? join(base, 'registry');
  if (existsSync(registryDir)) {
    throw new Error(`${registryDir} already exists`);
  }
  // The member's remembered audit heads (rollback detection) go to the test's own folder.
  const env = { ...process.env, DRIFTWARDEN_REGISTRY: registryDir, DRIFTWARDEN_STATE_DIR: join(base, 'state') };
  const driverProcess = await startDriver(env, `${safeName(testName)}.tauri-driver.log`);
  let driver;
  try {
    await waitForServer(driverProcess.child, 20_000);
    const executor = new Executor(new HttpClient(SERVER));
    options.onSessionRequest?.();
    driver = WebDriver.createSession(executor, {
      'tauri:options': { application },
    });
    await driver.getSession();
    try {
      await body({ driver, registryDir });
    } catch (error) {
      await saveScreenshot(driver, testName);
      throw error;
    }
  } finally {
    if (driver) {
      await driver.quit().catch(() => {});
    }
    await stopDriver(driverProcess);
    await rm(base, { recursive: true, force: true });
    if (options.registryDir) {
      await rm(options.registryDir, { recursive: true, force: true });
    }
  }
}

/** How long a screenshot may take: WebKitWebDriver has been seen never to answer one. */
const SCREENSHOT_TIMEOUT = 30_000;

export async function saveScreenshot(driver, name) {
  let timer;
  const timedOut = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${SCREENSHOT_TIMEOUT / 1000} s`)), SCREENSHOT_TIMEOUT);
  });
  try {
    const png = await Promise.race([driver.takeScreenshot(), timedOut]);
    mkdirSync(artifacts, { recursive: true });
    const path = join(artifacts, `${safeName(name)}.png`);
    writeFileSync(path, png, 'base64');
    console.error(`screenshot saved: ${path}`);
  } catch (error) {
    console.error(`could not save a screenshot: ${error}`);
  } finally {
    clearTimeout(timer);
  }
}

const testId = (id) => By.css(`[data-testid="${id}"]`);

/** Waits for the element with this data-testid to be present and visible. */
export async function find(driver, id, timeout = TIMEOUT) {
  const element = await driver.wait(until.elementLocated(testId(id)), timeout, `no [data-testid=${id}]`);
  await driver.wait(until.elementIsVisible(element), timeout, `[data-testid=${id}] not visible`);
  return element;
}

/** Replaces the value of an input. */
export async function type(driver, id, value) {
  const element = await find(driver, id);
  await element.clear();
  await element.sendKeys(value);
  return element;
}

export async function click(driver, id) {
  const element = await find(driver, id);
  await driver.wait(until.elementIsEnabled(element), TIMEOUT, `[data-testid=${id}] not enabled`);
  await element.click();
}

/** Waits until the element's text contains `text`, and returns the text. */
export async function textOf(driver, id, text) {
  const element = await find(driver, id);
  if (text !== undefined) {
    await driver.wait(until.elementTextContains(element, text), TIMEOUT, `[data-testid=${id}] lacks ${text}`);
  }
  return element.getText();
}

/** Waits until the input's value equals `value`. */
export async function waitForValue(driver, id, value) {
  const element = await find(driver, id);
  await driver.wait(
    async () => (await element.getAttribute('value')) === value,
    TIMEOUT,
    `[data-testid=${id}] value is not ${value}`,
  );
}

/** Chooses an option of a <select> (as a person would: value set, `change` fired). */
export async function choose(driver, id, value) {
  const element = await find(driver, id);
  await driver.executeScript(
    `const el = arguments[0];
     if (![...el.options].some((o) => o.value === arguments[1])) { throw new Error('no option ' + arguments[1]); }
     el.value = arguments[1];
     el.dispatchEvent(new Event('change', { bubbles: true }));`,
    element,
    value,
  );
}

/** Waits until an element with this data-testid is gone. */
export async function gone(driver, id, timeout = TIMEOUT) {
  await driver.wait(
    async () => (await driver.findElements(testId(id))).length === 0,
    timeout,
    `[data-testid=${id}] is still there`,
  );
}

/** Waits until an attribute of the element has the value. */
export async function waitForAttribute(driver, id, name, value) {
  const element = await find(driver, id);
  await driver.wait(
    async () => (await element.getAttribute(name)) === value,
    TIMEOUT,
    `[data-testid=${id}] ${name} is not ${value}`,
  );
}

/** The passphrase the e2e tests give new registries. */
export const SAMPLE_PASSPHRASE = 'harbour lantern quietly seven orchids';

/**
 * On the first-run screen, creates the sample registry ("try it with sample data") beside
 * `registryDir` and waits for the home view: signed in as Ana Ortiz (admin, owner of credit-risk
 * and of the svc-credit-scoring and bureau-api-key NHIs).
 */
export async function openSample(driver, registryDir) {
  await find(driver, 'create-form');
  await waitForValue(driver, 'field-dir', registryDir);
  await click(driver, 'mode-sample');
  await find(driver, 'sample-form');
  await waitForValue(driver, 'field-dir', `${registryDir}-sample`);
  await type(driver, 'field-passphrase', SAMPLE_PASSPHRASE);
  await type(driver, 'field-confirm', SAMPLE_PASSPHRASE);
  await click(driver, 'submit-sample');
  await find(driver, 'view-home', 120_000);
}
