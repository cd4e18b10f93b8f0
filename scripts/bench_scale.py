#!/usr/bin/env python3
"""Scale benchmark: a registry of 10,000 models, 100,000 NHIs, 5,000,000 measurements and
1,000,000 audit events, on SQLCipher and on an unencrypted copy (the floor).

1. Builds the release CLI and crates/driftwarden-core/examples/bench_scale.rs
   (feature bench-plaintext: the only build that can write an unencrypted copy).
2. Seeds the registry with `driftwarden dev seed` (through the real operations), once; cached in
   target/bench-scale/ (--rebuild to redo it), and writes its unencrypted copy with
   `bench_scale export-plain`.
3. On a fresh copy of each: unlock (KDF separately), the interactive queries (p50/p95 over
   repeated runs), the sweep, audit-log verification, ingest of 1,000,000 measurements and the
   process's peak memory (VmHWM).
4. Audit packs of one model and of the whole registry through `driftwarden pack` (SQLCipher
   only), with their peak memory (wait4's ru_maxrss).
5. Prints one table, the machine (cores, load average) and the exact commands.

Usage: python3 scripts/bench_scale.py [--scale 0.1] [--rebuild] [--no-pack] [--no-plain]
       BENCH_SCALE=0.1 make bench
Targets: interactive queries <= 50 ms p95; ingest >= 200,000 rows/s; verification >=
1,000,000 events/s; SQLCipher <= 1.3x the unencrypted floor.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSPHRASE = "bench scale passphrase"
NOW = "2026-11-20T09:00:00Z"
ADMIN = "admin@seed.example"
COMPLIANCE = "compliance@seed.example"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run(cmd, **kw):
    log("$", " ".join(str(c) for c in cmd))
    return subprocess.run(cmd, cwd=ROOT, **kw)


def run_measured(cmd, env):
    """Runs cmd; returns (returncode, seconds, stdout, stderr)."""
    log("$", " ".join(str(c) for c in cmd))
    t = time.monotonic()
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate()
    secs = time.monotonic() - t
    return p.returncode, secs, out, err


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")))
    ap.add_argument("--rebuild", action="store_true", help="seed the registry again")
    ap.add_argument("--no-pack", action="store_true", help="skip the audit packs")
    ap.add_argument("--no-plain", action="store_true", help="skip the unencrypted floor")
    ap.add_argument("--json", type=Path, help="also write every figure to this file")
    args = ap.parse_args()
    s = args.scale
    models, nhis = max(20, round(10_000 * s)), max(50, round(100_000 * s))
    measurements, events = max(2000, round(5_000_000 * s)), max(500, round(1_000_000 * s))
    ingest = max(1000, round(1_000_000 * s))

    for cmd in (
        ["cargo", "build", "--release", "-p", "driftwarden-cli"],
        ["cargo", "build", "--release", "-p", "driftwarden-core", "--features", "bench-plaintext",
         "--example", "bench_scale"],
    ):
        if run(cmd).returncode != 0:
            sys.exit("build failed")
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    cli = target / "release" / "driftwarden"
    bench = target / "release" / "examples" / "bench_scale"
    env = dict(os.environ, DRIFTWARDEN_PASSPHRASE=PASSPHRASE, DRIFTWARDEN_NOW=NOW,
               DRIFTWARDEN_STATE_DIR=str(target / "bench-scale" / "state"))

    work = target / "bench-scale"
    name = f"{models}m-{nhis}n-{measurements}x-{events}e"
    seeded, plain = work / f"seed-{name}", work / f"plain-{name}"
    seed_figure = None
    if args.rebuild or not (seeded / "registry.db").exists():
        shutil.rmtree(seeded, ignore_errors=True)
        shutil.rmtree(plain, ignore_errors=True)
        work.mkdir(parents=True, exist_ok=True)
        t = time.monotonic()
        r = run([cli, "--registry", seeded, "dev", "seed", "--models", str(models), "--nhis", str(nhis),
                 "--measurements", str(measurements), "--events", str(events), "--json"],
                env=env, capture_output=True, text=True)
        log(r.stderr)
        if r.returncode != 0:
            sys.exit("seeding failed")
        seed_figure = (time.monotonic() - t, json.loads(r.stdout))
        log(f"seeded in {seed_figure[0]:.1f} s: {r.stdout}")
    if not args.no_plain and not (plain / "registry.db").exists():
        if run([bench, "export-plain", seeded, plain], env=env).returncode != 0:
            sys.exit("the unencrypted copy failed")

    def workload(src, plain_flag):
        copy = work / "run"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(src, copy)
        # The copy's 1.2 GB reach the disk before the clock starts, not during the ingest's commit.
        os.sync()
        time.sleep(5)
        cmd = [bench, "run", copy, "--ingest", str(ingest)] + (["--plain"] if plain_flag else [])
        code, secs, out, err = run_measured(cmd, env)
        shutil.rmtree(copy, ignore_errors=True)
        if code != 0:
            log(err)
            sys.exit("the workload failed")
        return {o["name"]: o for o in map(json.loads, out.splitlines())}

    load_before = os.getloadavg()
    enc = workload(seeded, False)
    flo = {} if args.no_plain else workload(plain, True)

    packs = {}
    if not args.no_pack:
        for label, extra in (("audit pack: one model", ["--model", "model-00123"]), ("audit pack: whole registry", [])):
            out_dir = work / "pack"
            shutil.rmtree(out_dir, ignore_errors=True)
            cmd = ["/usr/bin/time", "-f", "MAXRSS %M", cli, "--registry", seeded, "--member", COMPLIANCE,
                   "pack", "--out", out_dir] + extra
            code, secs, out, err = run_measured(cmd, env)
            rss = next((int(l.split()[1]) for l in err.splitlines() if l.startswith("MAXRSS")), None)
            packs[label] = {"p50_ms": secs * 1000, "runs": 1, "ok": code == 0, "kib": rss,
                            "size": next((l.strip() for l in out.splitlines() if "report.pdf" in l), "")}
            if code != 0:
                log(err)
            shutil.rmtree(out_dir, ignore_errors=True)
    load_after = os.getloadavg()

    # The table.
    def cell(o, key="p50_ms"):
        if not o or key not in o or o[key] is None:
            return "-"
        v = o[key]
        return f"{v:,.1f}" if v < 100 else f"{v:,.0f}"

    rows = []
    print()
    print(f"Scale benchmark: {models:,} models, {nhis:,} NHIs, {measurements:,} measurements, "
          f"{events:,} audit events (scale {s}); release build")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; load average "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after")
    if seed_figure:
        print(f"seeding (`driftwarden dev seed`): {seed_figure[0]:.0f} s")
    print()
    print("| what | SQLCipher p50 ms | p95 ms | CPU p50 ms | unencrypted p50 ms | p95 ms | CPU p50 ms | ratio (CPU p50) | returned |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, o in list(enc.items()) + list(packs.items()):
        if name.startswith("peak memory"):
            continue
        f = flo.get(name, {})
        ratio = "-"
        key = "cpu_p50_ms" if f.get("cpu_p50_ms") and o.get("cpu_p50_ms") else "p50_ms"
        if f.get(key) and o.get(key):
            ratio = f"{o[key] / f[key]:.2f}x"
        size = o.get("size", "")
        if "rate" in o:
            size += f"; {o['rate']:,.0f} {o['unit']}"
            if f.get("rate"):
                size += f" (floor {f['rate']:,.0f})"
        if o.get("kib"):
            size += f"; peak {o['kib'] / 1024:,.0f} MiB"
        if o.get("error"):
            size = "ERROR " + o["error"]
        print(f"| {name} | {cell(o)} | {cell(o, 'p95_ms')} | {cell(o, 'cpu_p50_ms')} | {cell(f)} | "
              f"{cell(f, 'p95_ms')} | {cell(f, 'cpu_p50_ms')} | {ratio} | {size} |")
        rows.append({"name": name, "sqlcipher": o, "plain": f})
    # The same workload end to end: every operation timed on both, one run of each (p50).
    both = [(o["p50_ms"], flo[n]["p50_ms"]) for n, o in enc.items()
            if o.get("p50_ms") and flo.get(n, {}).get("p50_ms")]
    if both:
        te, tf = sum(e for e, _ in both), sum(f for _, f in both)
        print(f"| the whole workload (the sum of the {len(both)} p50s above timed on both) | {te:,.0f} | | | "
              f"{tf:,.0f} | | | {te / tf:.2f}x (wall) | |")
    mem = enc.get("peak memory (VmHWM)", {}).get("kib")
    fmem = flo.get("peak memory (VmHWM)", {}).get("kib")
    print(f"| peak memory of the workload process (VmHWM) | {mem / 1024 if mem else 0:,.0f} MiB | | | "
          f"{fmem / 1024 if fmem else 0:,.0f} MiB | | | | |")
    print()
    print("commands: python3 scripts/bench_scale.py --scale", s, "(BENCH_SCALE=%s make bench)" % s)
    if args.json:
        args.json.write_text(json.dumps({"scale": s, "rows": rows, "seed": seed_figure,
                                         "load": [load_before, load_after]}, indent=1))


if __name__ == "__main__":
    main()
