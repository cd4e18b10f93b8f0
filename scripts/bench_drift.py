#!/usr/bin/env python3
"""Benchmark: `driftwarden drift` against Evidently's DataDriftPreset and plain numpy/scipy.

Generates a reference and a current CSV of 1,000,000 rows x 20 columns (14 numeric, 6
categorical) in the shape of the shared drift fixtures (../shared/data/drift: the same
distributions and drifts, floats written with %.10g), then runs, one after the other on the same
files, each end to end (CSV in, scores out) as its own process:

  * driftwarden   target/release/driftwarden drift --reference R --current C --json
  * Evidently     pandas.read_csv both files, Report([DataDriftPreset()]).run(current, reference)
                  (columns typed by pandas dtype, as in the fixtures), per-column results out
  * numpy/scipy   pandas.read_csv, then the same per-column metrics with numpy/scipy
                  (ks_2samp, wasserstein_distance, Sturges histograms, PSI, Jensen-Shannon,
                  chi-square), results out

and prints each one's wall time, CPU time and peak memory (max RSS of that process;
driftwarden's is the median of three runs, the others take minutes and run once), the load
average (other work on the machine slows a run of a few seconds most), the ratios, and
whether the targets hold: >= 25x faster than Evidently, >= 5x faster than numpy/scipy, and at
most a quarter of Evidently's peak memory. It also checks that the three agree (methods, scores,
drift flags). Exits 1 if a target is missed.

Python packages come from a venv the script creates (python3 -m venv; pip install
evidently==0.7.23 'pandas<3' scipy numpy), by default in target/bench-venv. If Evidently cannot
be installed, the script says so and still measures driftwarden and numpy/scipy.

Run with `make bench-drift` (builds the release CLI first), or:
  cargo build --release -p driftwarden-cli && python3 scripts/bench_drift.py [--rows N] [--keep DIR]
Environment: DRIFTWARDEN_BIN (default target/release/driftwarden), BENCH_VENV, BENCH_ROWS.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

EVIDENTLY_VERSION = "0.7.23"
REQUIREMENTS = [f"evidently=={EVIDENTLY_VERSION}", "pandas<3", "scipy", "numpy"]

# ---------------------------------------------------------------------------------------------
# Data generation (runs in the venv). The fixtures' shape: PCG64 from SeedSequence(seed), one
# child stream per file; columns drawn in table order; floats written with %.10g.
GEN = r'''
import sys, time
import numpy as np, pandas as pd

n, seed, ref_path, cur_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]

def normal(mu, sd): return lambda r, k: r.normal(mu, sd, k)
def lognormal(mu, s): return lambda r, k: r.lognormal(mu, s, k)
def uniform(lo, hi): return lambda r, k: r.uniform(lo, hi, k)
def mixture(w):
    def draw(r, k):
        first = r.random(k) < w
        a = r.normal(-2.0, 0.7, k)
        b = r.normal(3.0, 1.2, k)
        return np.where(first, a, b)
    return draw
def rounded(mu, sd): return lambda r, k: np.round(r.normal(mu, sd, k), 1)

NUMERIC = [  # name, reference, current
    ("num_00", normal(0, 1), normal(0, 1)),
    ("num_01", normal(0, 1), normal(0.2, 1)),
    ("num_02", normal(5, 2), normal(5, 3)),
    ("num_03", lognormal(0, 0.5), lognormal(0, 0.5)),
    ("num_04", lognormal(0, 0.5), lognormal(0.1, 0.6)),
    ("num_05", uniform(0, 1), uniform(0, 1)),
    ("num_06", uniform(0, 1), uniform(0.1, 1.1)),
    ("num_07", normal(100, 15), normal(100, 15)),
    ("num_08", lognormal(2, 1), lognormal(2, 1)),
    ("num_09", lognormal(2, 1), lognormal(2, 1.1)),
    ("num_10", uniform(-50, 50), uniform(-50, 50)),
    ("num_11", normal(-3, 0.5), normal(-3.05, 0.5)),
    ("num_12", mixture(0.4), mixture(0.5)),
    ("num_13", rounded(10, 2), rounded(10, 2)),
]

def zipf(k, s):
    p = 1.0 / np.arange(1, k + 1) ** s
    return p / p.sum()

def levels(prefix, k): return np.array([f"{prefix}{i:02d}" for i in range(k)], dtype=object)

last_absent = zipf(50, 1.2)
last_absent[-1] = 0.0
last_absent /= last_absent.sum()
CATEGORICAL = [  # name, levels, reference p, current p
    ("cat_0", levels("a", 3), np.array([.5, .3, .2]), np.array([.5, .3, .2])),
    ("cat_1", levels("b", 5), np.array([.30, .25, .20, .15, .10]), np.array([.20, .25, .20, .15, .20])),
    ("cat_2", levels("c", 10), np.full(10, .1), np.full(10, .1)),
    ("cat_3", levels("d", 20), zipf(20, 1.0), zipf(20, 0.8)),
    ("cat_4", levels("e", 50), np.full(50, 1 / 50), np.full(50, 1 / 50)),
    ("cat_5", levels("f", 50), zipf(50, 1.2), last_absent),
]

streams = np.random.SeedSequence(seed).spawn(2)
for which, stream, path in ((0, streams[0], ref_path), (1, streams[1], cur_path)):
    t0 = time.perf_counter()
    rng = np.random.Generator(np.random.PCG64(stream))
    cols = {}
    for name, ref, cur in NUMERIC:
        cols[name] = (ref, cur)[which](rng, n)
    for name, lv, p_ref, p_cur in CATEGORICAL:
        cols[name] = lv[rng.choice(len(lv), size=n, p=(p_ref, p_cur)[which])]
    pd.DataFrame(cols).to_csv(path, index=False, float_format="%.10g", lineterminator="\n")
    print(f"  wrote {path} ({n:,} rows) in {time.perf_counter() - t0:.1f} s", flush=True)
'''

# ---------------------------------------------------------------------------------------------
# Evidently's DataDriftPreset, end to end (runs in the venv).
EVIDENTLY = r'''
import os, sys, json
os.environ.setdefault("DO_NOT_TRACK", "1")
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

ref = pd.read_csv(sys.argv[1]); cur = pd.read_csv(sys.argv[2])
num = [c for c in ref.columns if pd.api.types.is_numeric_dtype(ref[c])]
dd = DataDefinition(numerical_columns=num, categorical_columns=[c for c in ref.columns if c not in num])
snapshot = Report([DataDriftPreset()]).run(
    current_data=Dataset.from_pandas(cur, data_definition=dd),
    reference_data=Dataset.from_pandas(ref, data_definition=dd))
out = {}
for m in snapshot.dict()["metrics"]:
    cfg = m["config"]
    if cfg["type"].endswith(":ValueDrift"):
        out[cfg["column"]] = {"method": cfg["method"], "score": float(m["value"]), "threshold": cfg["threshold"]}
    elif cfg["type"].endswith(":DriftedColumnsCount"):
        out["__dataset__"] = m["value"]
json.dump(out, sys.stdout)
'''

# ---------------------------------------------------------------------------------------------
# Plain numpy/scipy: the same metrics per column, Evidently's definitions (runs in the venv).
NUMPY = r'''
import sys, json
import numpy as np, pandas as pd
from scipy import stats
from scipy.spatial import distance

def fill(p):
    p = p.copy(); m = p[p != 0].min()
    p[p == 0] = m / 1e6 if m <= 1e-4 else 1e-4
    return p

def psi(r, c):
    r, c = fill(r), fill(c)
    return float(np.sum((r - c) * np.log(r / c)))

ref = pd.read_csv(sys.argv[1]); cur = pd.read_csv(sys.argv[2])
out = {}
for col in ref.columns:
    a = ref[col].replace([np.inf, -np.inf], np.nan).dropna()
    b = cur[col].replace([np.inf, -np.inf], np.nan).dropna()
    if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
        a, b = a.to_numpy(np.float64), b.to_numpy(np.float64)
        ks = stats.ks_2samp(a, b)
        w = stats.wasserstein_distance(a, b)
        if pd.Series(a).nunique() > 20:
            edges = np.histogram_bin_edges(np.concatenate([a, b]), bins="sturges")
            rp, cp = np.histogram(a, edges)[0] / len(a), np.histogram(b, edges)[0] / len(b)
        else:
            keys = sorted(set(np.unique(a)) | set(np.unique(b)))
            rc, cc = pd.Series(a).value_counts(), pd.Series(b).value_counts()
            rp = rc.reindex(keys, fill_value=0).to_numpy() / len(a)
            cp = cc.reindex(keys, fill_value=0).to_numpy() / len(b)
        q = np.unique(np.quantile(a, np.linspace(0, 1, 11)[1:-1]))
        nb = len(q) + 1
        qr = np.bincount(np.searchsorted(q, a, side="right"), minlength=nb) / len(a)
        qc = np.bincount(np.searchsorted(q, b, side="right"), minlength=nb) / len(b)
        out[col] = {"ks_stat": float(ks.statistic), "ks_pvalue": float(ks.pvalue), "wasserstein": float(w),
                    "wasserstein_norm": float(w / max(np.std(a), 0.001)), "psi": psi(rp, cp),
                    "jensenshannon": float(distance.jensenshannon(rp, cp)), "psi_q10ref": psi(qr, qc)}
    else:
        a, b = a.astype(str), b.astype(str)
        rc, cc = a.value_counts(), b.value_counts()
        keys = sorted(set(rc.index) | set(cc.index))
        r = rc.reindex(keys, fill_value=0).to_numpy(np.float64)
        c = cc.reindex(keys, fill_value=0).to_numpy(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            chi = stats.chisquare(c, r * (len(b) / len(a)))
        out[col] = {"psi": psi(r / len(a), c / len(b)),
                    "jensenshannon": float(distance.jensenshannon(r / len(a), c / len(b))),
                    "chisquare_pvalue": float(chi.pvalue)}
json.dump(out, sys.stdout)
'''

DISPLAY_TO_NAME = {
    "Wasserstein distance (normed)": "wasserstein", "Jensen-Shannon distance": "jensenshannon",
    "PSI": "psi", "K-S p_value": "ks", "chi-square p_value": "chisquare", "Z-test p_value": "z",
}


def ensure_venv(path):
    """The venv's python, and whether Evidently is installed in it."""
    py = os.path.join(path, "bin", "python")
    if not os.path.exists(py):
        print(f"creating venv {path}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", path], check=True)
    probe = "import evidently, pandas, scipy, numpy; print(evidently.__version__)"
    r = subprocess.run([py, "-c", probe], capture_output=True, text=True)
    if r.returncode == 0 and r.stdout.strip() == EVIDENTLY_VERSION:
        return py, True
    print("pip install " + " ".join(REQUIREMENTS), flush=True)
    if subprocess.run([py, "-m", "pip", "install", "-q", *REQUIREMENTS]).returncode == 0:
        return py, True
    print("!! evidently could not be installed: measuring driftwarden and numpy/scipy only", flush=True)
    subprocess.run([py, "-m", "pip", "install", "-q", "pandas<3", "scipy", "numpy"], check=True)
    return py, False


def measure(name, cmd, out_path, repeat=1):
    """Runs cmd with stdout to out_path; returns (wall seconds, peak RSS in MiB) of that process,
    the median of `repeat` runs."""
    runs = []
    for i in range(repeat):
        print(f"running {name}" + (f" ({i + 1}/{repeat})" if repeat > 1 else "") + " ...", flush=True)
        with open(out_path, "wb") as out:
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=out)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            sys.exit(f"{name} failed (exit {proc.returncode})")
        peak = usage.ru_maxrss / 1024  # KiB on Linux
        cpu = usage.ru_utime + usage.ru_stime
        print(f"  {name}: {wall:.2f} s, {cpu:.2f} s CPU, peak {peak:.0f} MiB "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)", flush=True)
        runs.append((wall, peak, cpu))
    runs.sort()
    return runs[len(runs) // 2]


def rel(a, b):
    return 0.0 if a == b else abs(a - b) / max(abs(a), abs(b))


def agreement(ours, evidently, peers):
    lines = []
    cols = ours["columns"]
    if peers is not None:
        worst = max(rel(cols[c]["metrics"][k], v) for c, m in peers.items() for k, v in m.items()
                    if v != 0 or cols[c]["metrics"][k] != 0)
        lines.append(f"driftwarden vs numpy/scipy: largest relative difference over all metrics {worst:.1e}")
    if evidently is not None:
        same_method = all(cols[c]["method"] == DISPLAY_TO_NAME.get(e["method"], e["method"])
                          for c, e in evidently.items() if c != "__dataset__")
        worst = max(rel(cols[c]["score"], e["score"]) for c, e in evidently.items() if c != "__dataset__")
        n_ours = sum(1 for c in cols.values() if c["drifted"])
        n_ev = int(evidently["__dataset__"]["count"])
        lines.append(f"driftwarden vs Evidently: methods {'identical' if same_method else 'DIFFER'}, "
                     f"largest relative score difference {worst:.1e}, drifted columns {n_ours} vs {n_ev}")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", "1000000")))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--keep", help="write the CSVs and outputs here and keep them (reused by the next run)")
    ap.add_argument("--no-evidently", action="store_true", help="skip the Evidently run")
    a = ap.parse_args()
    binary = os.environ.get("DRIFTWARDEN_BIN", "target/release/driftwarden")
    if not os.path.exists(binary):
        sys.exit(f"{binary} not found: cargo build --release -p driftwarden-cli")
    py, installed = ensure_venv(os.environ.get("BENCH_VENV", "target/bench-venv"))
    have_evidently = installed and not a.no_evidently

    work = a.keep or tempfile.mkdtemp(prefix="dw-bench-drift-")
    os.makedirs(work, exist_ok=True)
    ref, cur = os.path.join(work, "reference.csv"), os.path.join(work, "current.csv")
    try:
        meta = os.path.join(work, "generated.json")
        want = {"rows": a.rows, "seed": a.seed}
        if a.keep and os.path.exists(meta) and json.load(open(meta)) == want:
            print(f"reusing the {a.rows:,}-row files in {work}", flush=True)
        else:
            print(f"generating {a.rows:,} rows x 20 columns (seed {a.seed}) in {work}", flush=True)
            subprocess.run([py, "-c", GEN, str(a.rows), str(a.seed), ref, cur], check=True)
            with open(meta, "w") as f:
                json.dump(want, f)
        size = (os.path.getsize(ref) + os.path.getsize(cur)) / 1e6

        results = {}
        outs = {}
        runs = [("driftwarden", [binary, "drift", "--reference", ref, "--current", cur, "--json"])]
        if have_evidently:
            runs.append(("Evidently DataDriftPreset", [py, "-c", EVIDENTLY, ref, cur]))
        runs.append(("numpy/scipy", [py, "-c", NUMPY, ref, cur]))
        for name, cmd in runs:
            out = os.path.join(work, name.split()[0].replace("/", "-") + ".json")
            # A run of a few seconds is more exposed to other load than one of minutes: the
            # median of three.
            results[name] = measure(name, cmd, out, repeat=3 if name == "driftwarden" else 1)
            with open(out) as f:
                outs[name] = json.load(f)

        dw_wall, dw_peak, _ = results["driftwarden"]
        print()
        print(f"{a.rows:,} rows x 20 columns per file, {size:.0f} MB of CSV in total; "
              f"{os.cpu_count()} cores, load average now {os.getloadavg()[0]:.1f}")
        print(f"{'':28}{'wall s':>9}{'CPU s':>8}{'peak MiB':>10}{'time / ours':>13}{'memory / ours':>15}")
        for name, (wall, peak, cpu) in results.items():
            print(f"{name:28}{wall:9.2f}{cpu:8.2f}{peak:10.0f}{wall / dw_wall:12.1f}x{peak / dw_peak:14.1f}x")
        print()
        for line in agreement(outs["driftwarden"], outs.get("Evidently DataDriftPreset"), outs["numpy/scipy"]):
            print(line)
        ok = True
        checks = []
        if have_evidently:
            ev_wall, ev_peak, _ = results["Evidently DataDriftPreset"]
            checks.append((f"{ev_wall / dw_wall:.1f}x faster than Evidently (target >= 25x)", ev_wall / dw_wall >= 25))
            checks.append((f"peak memory {dw_peak / ev_peak:.2f} of Evidently's (target <= 0.25)", dw_peak <= ev_peak / 4))
        np_wall = results["numpy/scipy"][0]
        checks.append((f"{np_wall / dw_wall:.1f}x faster than numpy/scipy (target >= 5x)", np_wall / dw_wall >= 5))
        for text, passed in checks:
            print(f"{'PASS' if passed else 'FAIL'}  {text}")
            ok = ok and passed
        if not have_evidently:
            print("(Evidently not measured: " + ("--no-evidently)" if installed else "it could not be installed)"))
        return 0 if ok else 1
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
