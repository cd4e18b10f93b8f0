#!/usr/bin/env bash
# Fuzzes every parser of outside input (fuzz/fuzz_targets/*.rs) with cargo-fuzz / libFuzzer.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Builds all targets once, then runs each for SECONDS_PER_TARGET (default 20: the smoke run of
# `make test`; the long run uses 600) on its corpus in fuzz/corpus/<target>/ (the committed
# seed-* files plus what earlier runs found). Prints per target: seconds, executions, corpus size,
# crashes. Exits non-zero when any target crashes, leaks, times out or runs out of memory; the
# input is kept in fuzz/artifacts/<target>/ (replay it with the printed command).
#
# Environment: FUZZ_SANITIZER (address by default; `none` builds faster and runs faster, but
# catches only panics and aborts), FUZZ_JOBS (targets run at once, default 1).
# cargo-fuzz needs nightly compiler flags; on a stable toolchain RUSTC_BOOTSTRAP=1 allows them.
set -euo pipefail

SECONDS_PER_TARGET=${1:-20}
shift || true
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FUZZ="$ROOT/fuzz"
SANITIZER=${FUZZ_SANITIZER:-address}
JOBS=${FUZZ_JOBS:-1}
export PATH="$HOME/.cargo/bin:$PATH"
export RUSTC_BOOTSTRAP=1
# The fuzz crate's own target dir: sanitizer builds never mix with the workspace's.
export CARGO_TARGET_DIR="$FUZZ/target"
# The drift engine reads columns on a thread pool; one thread keeps runs reproducible.
export RAYON_NUM_THREADS=1

if ! cargo fuzz --version >/dev/null 2>&1; then
	echo "installing cargo-fuzz"
	cargo install cargo-fuzz --locked
fi

cd "$FUZZ"
if [ $# -gt 0 ]; then
	TARGETS=("$@")
else
	mapfile -t TARGETS < <(cargo fuzz list)
fi

echo "==> fuzz: building ${#TARGETS[@]} targets (sanitizer: $SANITIZER)"
build_start=$(date +%s)
if [ $# -gt 0 ]; then
	for t in "${TARGETS[@]}"; do cargo fuzz build --sanitizer "$SANITIZER" "$t"; done
else
	cargo fuzz build --sanitizer "$SANITIZER"
fi
echo "built in $(($(date +%s) - build_start)) s"

LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT

run_one() {
	local t=$1
	local bin="target/x86_64-unknown-linux-gnu/release/$t"
	mkdir -p "corpus/$t" "artifacts/$t"
	local start status
	start=$(date +%s)
	set +e
	"$bin" "corpus/$t" \
		-max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
		-timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="artifacts/$t/" >"$LOGS/$t.log" 2>&1
	status=$?
	set -e
	echo "$status $(($(date +%s) - start))" >"$LOGS/$t.status"
}

pids=()
for t in "${TARGETS[@]}"; do
	run_one "$t" &
	pids+=($!)
	if [ "${#pids[@]}" -ge "$JOBS" ]; then
		wait "${pids[0]}"
		pids=("${pids[@]:1}")
	fi
done
for p in "${pids[@]}"; do wait "$p"; done

failed=0
printf '\n%-18s %8s %14s %8s %8s\n' target seconds executions corpus crashes
for t in "${TARGETS[@]}"; do
	read -r status took <"$LOGS/$t.status"
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOGS/$t.log" | tail -1)
	corpus=$(find "corpus/$t" -type f | wc -l)
	crashes=0
	if [ "$status" != 0 ]; then
		crashes=1
		failed=1
	fi
	printf '%-18s %8s %14s %8s %8s\n' "$t" "$took" "${execs:-?}" "$corpus" "$crashes"
done
if [ "$failed" != 0 ]; then
	for t in "${TARGETS[@]}"; do
		read -r status _ <"$LOGS/$t.status"
		if [ "$status" != 0 ]; then
			echo
			echo "==> $t failed (exit $status):"
			grep -v '^#' "$LOGS/$t.log" | tail -40
			echo "replay: (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer $SANITIZER $t artifacts/$t/<file>)"
		fi
	done
	exit 1
fi
echo "no crashes"
