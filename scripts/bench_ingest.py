#!/usr/bin/env python3
"""Benchmark: ingest and evaluate a 1,000,000-row measurement CSV with the real CLI.

Prints rows/s and the CLI's peak memory (max RSS). Targets on a 2-core machine: >= 200,000 rows/s
and < 200 MB. Run with `make bench-ingest` (builds the release CLI first).
"""
import os
import resource
import subprocess
import sys
import tempfile
import time

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
BIN = os.environ.get("DRIFTWARDEN_BIN", "target/release/driftwarden")
PASS = "benchmark passphrase"


def run(env, *args):
    subprocess.run([BIN, *args], env=env, check=True, stdout=subprocess.DEVNULL)


def main():
    tmp = tempfile.mkdtemp(prefix="dw-bench-")
    env = dict(os.environ, DRIFTWARDEN_REGISTRY=os.path.join(tmp, "registry"),
               DRIFTWARDEN_MEMBER="bench@example.org", DRIFTWARDEN_PASSPHRASE=PASS,
               DRIFTWARDEN_NOW="2026-11-02T09:00:00Z")
    run(env, "init", "--org", "Bench", "--email", "bench@example.org", "--name", "Bench",
        "--role", "admin,owner,validator,approver")
    models = [f"model-{i}" for i in range(10)]
    metrics = ["psi", "ks", "wasserstein", "share_drifted_columns"]
    for m in models:
        run(env, "model", "add", m, "--version", "1", "--owner", "bench@example.org", "--use", "bench",
            "--function", "bench", "--tier", "medium")
        run(env, "model", "rights", m, "--alerts", "bench@example.org", "--validator", "bench@example.org",
            "--rollback", "bench@example.org", "--approver", "bench@example.org")
        for metric in metrics:
            run(env, "threshold", "set", m, metric, "--breach", "0.9", "--warn", "0.5")
        run(env, "approve", m, "--until", "2027-06-01")
    path = os.path.join(tmp, "measurements.csv")
    with open(path, "w") as f:
        f.write("model,version,metric,value,observed_at,segment,source\n")
        for i in range(ROWS):
            # Mostly under the warn level, some warn notices, and breach episodes (2% of rows, in
            # runs) that open exceptions, recover and breach again: the evaluator does real work.
            v = (i * 7919 % 1000) / 1000.0 * 0.6
            if (i // 5000) % 50 == 7:
                v = 0.95
            f.write(f"{models[i % 10]},1,{metrics[i % 4]},{v:.4f},2026-10-{1 + (i // 40000) % 28:02d}T"
                    f"{(i // 1000) % 24:02d}:{(i // 10) % 60:02d}:00Z,all,bench\n")
    size = os.path.getsize(path)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([BIN, "ingest", path], env=env, check=True, stdout=subprocess.DEVNULL)
    secs = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak_kib = after.ru_maxrss
    load = os.getloadavg()[0]
    print(f"ingest of {ROWS:,} rows ({size / 1e6:.0f} MB CSV) with evaluation: {secs:.2f} s wall, "
          f"{cpu:.2f} s CPU (load average {load:.1f} on {os.cpu_count()} cores)")
    print(f"rows/s: {ROWS / secs:,.0f} (target >= 200,000)")
    print(f"peak memory (max RSS of the CLI): {peak_kib / 1024:.0f} MiB (target < 200 MB)")
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    sys.exit(main())
