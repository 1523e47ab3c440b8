#!/usr/bin/env bash
# Alternates server binaries under the same bbox load, for A/B figures on a
# noisy shared machine (compare within one sitting, not across days).
#
#   bench/compare.sh OLD_BINARY NEW_BINARY        # 2 rounds, 2 runs each
#   ROUNDS=3 RUNS=2 THREADS=1 LUA=bench/nearest.lua bench/compare.sh A B
#
# Each round starts each binary once on the database bench/load.sh made
# (run that first), warms it for 4 s, then runs `wrk` for 8 s RUNS times,
# printing requests/s, p50 and p99, start-up time and resident memory.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
WORK=${WORK:-/tmp/streetcell-bench}
DB=sqlite://$WORK/bench-$N.db
PORT=${PORT:-18081}
ROUNDS=${ROUNDS:-2}
RUNS=${RUNS:-2}
THREADS=${THREADS:-2}
LUA=${LUA:-bench/bbox.lua}
BASE=http://127.0.0.1:$PORT
[ $# -ge 1 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }
[ -s "$WORK/bench-$N.db" ] || { echo "no $WORK/bench-$N.db: run bench/load.sh first" >&2; exit 1; }

for round in $(seq "$ROUNDS"); do
  for bin in "$@"; do
    t0=$(date +%s%N)
    STREETCELL_RATE_LIMIT=0 STREETCELL_ADMIN_TOKEN=x "$bin" serve --public-read --listen "127.0.0.1:$PORT" \
      --database-url "$DB" >/dev/null 2>&1 &
    server=$!
    until curl -sf "$BASE/healthz" >/dev/null; do sleep 0.1; done
    echo "round $round, $bin: start-up $(( ($(date +%s%N) - t0) / 1000000 )) ms"
    wrk -t"$THREADS" -c64 -d4s -s "$LUA" "$BASE" >/dev/null
    for run in $(seq "$RUNS"); do
      out=$(wrk -t"$THREADS" -c64 -d8s --latency -s "$LUA" "$BASE")
      echo "  run $run: $(awk '/Requests\/sec/ {print $2}' <<<"$out") req/s," \
        "p50 $(awk '$1 == "50%" {print $2}' <<<"$out"), p99 $(awk '$1 == "99%" {print $2}' <<<"$out")"
    done
    echo "  resident memory: $(awk '/VmRSS/ {printf "%.0f MB", $2 / 1024}' /proc/$server/status)"
    kill "$server"; wait "$server" 2>/dev/null || true
  done
done
