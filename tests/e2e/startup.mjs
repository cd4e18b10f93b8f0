// Startup figures of the desktop app: time from launch to an interactive unlock screen, idle
// memory, and (with a registry given) the first view after unlock and the memory with that registry
// open. Runs under Xvfb (`make startup`); measures the binary in DRIFTWARDEN_APP (default: the
// release build, target/release/driftwarden-desktop).
//
// Time to the unlock screen: from the WebDriver "new session" request (which launches the app)
// until the first-run form's passphrase field is present, visible and enabled. This includes
// tauri-driver and WebKitWebDriver's own start, so it is an upper bound of the app's figure.
// Memory: after RUN_IDLE_MS of idle, the proportional set size (PSS) of the app process and its
// WebKit helper processes (web content, network), from /proc/<pid>/smaps_rollup, per process and in
// total. PSS shares a library's pages among every process that maps it, so other WebKit apps
// running on the machine lower these figures: run it on an otherwise idle machine.
//
// With DRIFTWARDEN_STARTUP_REGISTRY=<folder> (an existing registry, e.g. one built by
// `driftwarden dev seed`), DRIFTWARDEN_STARTUP_PASSPHRASE (or DRIFTWARDEN_STARTUP_PASSPHRASE_FILE)
// and DRIFTWARDEN_STARTUP_MEMBER (default admin@seed.example), it also opens that registry through
// the Open form OPEN_RUNS times (default 3) and prints:
// - the time from the click on "Open" until the Home view has its data (models, members, inbox,
//   identity posture, the next 14 days) rendered and the page's main thread is free again, measured
//   in the page (performance.now()); and until the shell first appears (registry_open returned);
// - PSS after the Home view has settled, after the model list, and after one model's page;
// Opening a registry runs its escalation sweep, which may write audit events: use a copy you do
// not mind changing.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { By, until } from 'selenium-webdriver';
import { click, find, repoRoot, saveScreenshot, type, withApp } from './harness.mjs';

const RUNS = Number(process.env.RUNS ?? 5);
const IDLE_MS = Number(process.env.RUN_IDLE_MS ?? 5000);
process.env.DRIFTWARDEN_APP ??= join(repoRoot, 'target', 'release', 'driftwarden-desktop');
const app = resolve(process.env.DRIFTWARDEN_APP);

const REGISTRY = process.env.DRIFTWARDEN_STARTUP_REGISTRY;
const OPEN_RUNS = Number(process.env.OPEN_RUNS ?? 3);
const MEMBER = process.env.DRIFTWARDEN_STARTUP_MEMBER ?? 'admin@seed.example';
/** How long a big registry may take to open (key derivation, migration, sweep) and show Home. */
const OPEN_TIMEOUT = 600_000;

function processes() {
  const out = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      let exe = '';
      try {
        exe = readlinkSync(`/proc/${entry}/exe`);
      } catch {
        // not ours to read
      }
      out.push({ pid: Number(entry), ppid, exe, name });
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

/** PSS in kB of the app and all its descendants, in total and per process. */
function memoryKb() {
  const all = processes();
  const roots = all.filter((p) => p.exe === app);
  const tree = new Map(roots.map((p) => [p.pid, p]));
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) {
      if (!tree.has(p.pid) && tree.has(p.ppid)) {
        tree.set(p.pid, p);
        grew = true;
      }
    }
  }
  let total = 0;
  const parts = [];
  for (const [pid, p] of tree) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      const kb = m ? Number(m[1]) : 0;
      total += kb;
      parts.push({ name: p.exe === app ? 'app' : p.name, kb });
    } catch {
      // gone
    }
  }
  parts.sort((a, b) => b.kb - a.kb);
  return { kb: total, processes: tree.size, parts };
}

const mib = (kb) => (kb / 1024).toFixed(1);
const describe = (m) =>
  `${mib(m.kb)} MiB PSS over ${m.processes} processes (${m.parts.map((p) => `${p.name} ${mib(p.kb)}`).join(', ')})`;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// ---- Launch to the unlock screen, idle memory ---------------------------------------------------

const times = [];
let memory = null;
for (let run = 0; run < RUNS; run += 1) {
  let started = 0;
  await withApp(
    `startup ${run}`,
    async ({ driver }) => {
      const field = await driver.wait(until.elementLocated(By.css('[data-testid="field-passphrase"]')), 30_000);
      await driver.wait(until.elementIsVisible(field), 30_000);
      await driver.wait(until.elementIsEnabled(field), 30_000);
      times.push(Date.now() - started);
      if (run === RUNS - 1) {
        await sleep(IDLE_MS);
        memory = memoryKb();
      }
    },
    { onSessionRequest: () => (started = Date.now()) },
  );
}

times.sort((a, b) => a - b);
console.log(`app: ${app}`);
console.log(
  `launch to interactive unlock screen (ms, ${RUNS} runs): median ${median(times)}, min ${times[0]}, max ${times.at(-1)}`,
);
if (memory) {
  console.log(`idle memory after ${IDLE_MS / 1000} s: ${describe(memory)}`);
}

// ---- A given registry: first view after unlock, memory with it open ----------------------------

/** Installs a capture-phase listener that records when the Open button is clicked. */
const ARM = `
  window.__startup = { clicked: null, shell: null };
  window.__dwTimings = [];
  document.addEventListener('click', (event) => {
    if (window.__startup.clicked === null && event.target.closest('[data-testid="submit-open"]')) {
      window.__startup.clicked = performance.now();
    }
  }, true);
`;

/**
 * Resolves (asynchronously) once the Home view has its data: { shell, home } in ms after the click,
 * `home` taken after the next rendered frame and a free turn of the main thread.
 */
const WAIT_HOME = `
  const done = arguments[arguments.length - 1];
  const s = window.__startup;
  const timer = setInterval(() => {
    if (s.shell === null && document.querySelector('[data-testid="shell"]')) {
      s.shell = performance.now();
    }
    const view = document.querySelector('[data-testid="view-home"]');
    if (!view) {
      return;
    }
    const error = view.querySelector('[data-testid="home-error"]');
    const count = view.querySelector('[data-testid="count-models"]');
    if (!error && !(count && count.textContent.trim() !== '–')) {
      return;
    }
    clearInterval(timer);
    requestAnimationFrame(() => setTimeout(() => done({
      shell: s.shell - s.clicked,
      home: performance.now() - s.clicked,
      error: error ? error.textContent : null,
      // Each command's round trip, from the click: where the first view's time goes.
      calls: (window.__dwTimings || []).map((c) => ({ ...c, start: c.start - s.clicked })),
    }), 0));
  }, 2);
`;

function passphrase() {
  if (process.env.DRIFTWARDEN_STARTUP_PASSPHRASE_FILE) {
    return readFileSync(process.env.DRIFTWARDEN_STARTUP_PASSPHRASE_FILE, 'utf8').split('\n')[0];
  }
  if (process.env.DRIFTWARDEN_STARTUP_PASSPHRASE) {
    return process.env.DRIFTWARDEN_STARTUP_PASSPHRASE;
  }
  throw new Error('DRIFTWARDEN_STARTUP_REGISTRY needs DRIFTWARDEN_STARTUP_PASSPHRASE or DRIFTWARDEN_STARTUP_PASSPHRASE_FILE');
}

async function settledMemory() {
  await sleep(IDLE_MS);
  return memoryKb();
}

if (REGISTRY) {
  const dir = resolve(REGISTRY);
  const secret = passphrase();
  const firstView = [];
  const shellTimes = [];
  let mem = null;
  for (let run = 0; run < OPEN_RUNS; run += 1) {
    await withApp(`startup open ${run}`, async ({ driver }) => {
      await driver.manage().setTimeouts({ script: OPEN_TIMEOUT });
      await find(driver, 'create-form');
      await click(driver, 'mode-open');
      await find(driver, 'open-form');
      await type(driver, 'field-dir', dir);
      await type(driver, 'field-email', MEMBER);
      await type(driver, 'field-passphrase', secret);
      await driver.executeScript(ARM);
      await click(driver, 'submit-open');
      const t = await driver.executeAsyncScript(WAIT_HOME);
      if (t.error) {
        await saveScreenshot(driver, 'startup-open-error');
        throw new Error(`the Home view failed: ${t.error}`);
      }
      firstView.push(t.home);
      shellTimes.push(t.shell);
      console.error(`open ${run}: shell after ${t.shell.toFixed(0)} ms, Home ready after ${t.home.toFixed(0)} ms`);
      for (const c of t.calls) {
        console.error(`  ${c.command}: ${c.start.toFixed(0)} + ${c.ms.toFixed(0)} ms`);
      }
      if (run !== OPEN_RUNS - 1) {
        return;
      }
      // Memory with the registry open: Home, then the model list, then the first model's page.
      mem = { home: await settledMemory() };
      console.error(`memory, Home: ${describe(mem.home)}`);
      await click(driver, 'nav-models');
      await find(driver, 'model-row', OPEN_TIMEOUT);
      mem.models = await settledMemory();
      console.error(`memory, model list: ${describe(mem.models)}`);
      const link = await driver.wait(
        until.elementLocated(By.css('[data-testid="model-row"] button.row-link')),
        OPEN_TIMEOUT,
      );
      const model = await link.getText();
      await link.click();
      await find(driver, 'model-approval-status', OPEN_TIMEOUT);
      mem.model = await settledMemory();
      console.error(`memory, model page: ${describe(mem.model)}`);
      mem.modelName = model;
      await saveScreenshot(driver, 'startup-model-page');

    });
  }
  console.log(`registry: ${dir} (as ${MEMBER})`);
  console.log(
    `click on Open to the shell (registry_open, incl. key derivation) (ms, ${OPEN_RUNS} runs): ` +
      `median ${median(shellTimes).toFixed(0)}, all ${shellTimes.map((v) => v.toFixed(0)).join(', ')}`,
  );
  console.log(
    `click on Open to the Home view rendered with its data and interactive (ms, ${OPEN_RUNS} runs): ` +
      `median ${median(firstView).toFixed(0)}, all ${firstView.map((v) => v.toFixed(0)).join(', ')}`,
  );
  if (mem) {
    console.log(`memory, Home settled (${IDLE_MS / 1000} s): ${describe(mem.home)}`);
    console.log(`memory, model list: ${describe(mem.models)}`);
    console.log(`memory, model page (${mem.modelName}): ${describe(mem.model)}`);
  }
}
