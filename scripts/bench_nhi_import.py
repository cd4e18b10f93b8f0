#!/usr/bin/env python3
"""Benchmark: import an inventory of 10,000 NHIs with the real CLI (target: under 2 s)."""
import os
import subprocess
import tempfile
import time

BIN = os.environ.get("DRIFTWARDEN_BIN", "target/release/driftwarden")
N = int(os.environ.get("BENCH_NHIS", "10000"))


def main():
    tmp = tempfile.mkdtemp(prefix="dw-bench-nhi-")
    env = dict(os.environ, DRIFTWARDEN_REGISTRY=os.path.join(tmp, "registry"),
               DRIFTWARDEN_MEMBER="bench@example.org", DRIFTWARDEN_PASSPHRASE="benchmark passphrase",
               DRIFTWARDEN_STATE_DIR=os.path.join(tmp, "state"))
    subprocess.run([BIN, "init", "--org", "Bench", "--email", "bench@example.org", "--name", "Bench"],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    path = os.path.join(tmp, "nhis.csv")
    kinds = ["service-account", "api-key", "oauth-client", "token", "certificate", "ssh-key", "secret"]
    with open(path, "w") as f:
        f.write("name,kind,system,owner,rotation_days,last_rotated,expires,environment,scopes,identifier,human_use\n")
        for i in range(N):
            f.write(f"nhi-{i:05d},{kinds[i % 7]},system-{i % 40},bench@example.org,{30 + i % 300},"
                    f"2026-{1 + i % 10:02d}-15,2027-{1 + i % 12:02d}-01,production,read:data;write:logs,"
                    f"id-{i:05d}@bench.example.org,false\n")
    start = time.perf_counter()
    subprocess.run([BIN, "nhi", "import", path], env=env, check=True, stdout=subprocess.DEVNULL)
    secs = time.perf_counter() - start
    print(f"import of {N:,} NHIs: {secs:.2f} s (target < 2 s), including unlock")
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
