// Startup figures of the desktop app: time from launch to an interactive unlock screen, and idle
// memory. Runs under Xvfb (`make startup`); measures the binary in DRIFTWARDEN_APP (default: the
// release build, target/release/driftwarden-desktop).
//
// Time: from the WebDriver "new session" request (which launches the app) until the first-run
// form's passphrase field is present, visible and enabled. This includes tauri-driver and
// WebKitWebDriver's own start, so it is an upper bound of the app's figure.
// Memory: after RUN_IDLE_MS of idle, the proportional set size (PSS) of the app process and its
// WebKit helper processes (web content, network), from /proc/<pid>/smaps_rollup.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { By, until } from 'selenium-webdriver';
import { repoRoot, withApp } from './harness.mjs';

const RUNS = Number(process.env.RUNS ?? 5);
const IDLE_MS = Number(process.env.RUN_IDLE_MS ?? 5000);
process.env.DRIFTWARDEN_APP ??= join(repoRoot, 'target', 'release', 'driftwarden-desktop');
const app = resolve(process.env.DRIFTWARDEN_APP);

function processes() {
  const out = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      let exe = '';
      try {
        exe = readlinkSync(`/proc/${entry}/exe`);
      } catch {
        // not ours to read
      }
      out.push({ pid: Number(entry), ppid, exe });
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

/** PSS in kB of the app and all its descendants. */
function memoryKb() {
  const all = processes();
  const roots = all.filter((p) => p.exe === app);
  const tree = new Set(roots.map((p) => p.pid));
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) {
      if (!tree.has(p.pid) && tree.has(p.ppid)) {
        tree.add(p.pid);
        grew = true;
      }
    }
  }
  let total = 0;
  for (const pid of tree) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      total += m ? Number(m[1]) : 0;
    } catch {
      // gone
    }
  }
  return { kb: total, processes: tree.size };
}

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
const median = times[Math.floor(times.length / 2)];
console.log(`app: ${app}`);
console.log(`launch to interactive unlock screen (ms, ${RUNS} runs): median ${median}, min ${times[0]}, max ${times.at(-1)}`);
if (memory) {
  console.log(`idle memory after ${IDLE_MS / 1000} s: ${(memory.kb / 1024).toFixed(1)} MiB PSS over ${memory.processes} processes (app + WebKit helpers)`);
}
