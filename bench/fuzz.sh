#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ (issue 15) for a bounded time each and
# prints the executions libFuzzer reports. Not part of .ci/run: too slow.
#
#   bench/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). cargo-fuzz passes
# -Z flags to rustc, so on stable Rust RUSTC_BOOTSTRAP=1 is set here.
# FUZZ_SANITIZER=none builds without AddressSanitizer (faster, fewer checks).
# Crash inputs land in fuzz/artifacts/TARGET/; the corpus grows in
# fuzz/corpus/TARGET/ (neither is committed).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-300}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(import_csv import_geojson cql2_filter)
fi
sanitizer="${FUZZ_SANITIZER:-address}"
export RUSTC_BOOTSTRAP=1
cargo fuzz build --sanitizer "$sanitizer"
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  log="$(mktemp)"
  status=0
  cargo fuzz run --sanitizer "$sanitizer" "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1 || status=$?
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)"
  echo "$t: ${secs}s, executions ${execs:-?}, exit $status (log $log)"
done
