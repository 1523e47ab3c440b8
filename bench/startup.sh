#!/usr/bin/env bash
# Start-up to first answer of a release build holding N synthetic points
# (default 1M) in SQLite: from the database alone (`--no-snapshot`), then
# from the start-up snapshot the server writes beside the database when it
# stops. RUNS starts of each (default 3), alternating.
#
#   bench/startup.sh
#   N=200000 RUNS=5 bench/startup.sh
#
# Needs curl, bc, python3. Works in $WORK (default /tmp/streetcell-bench-start);
# the fixture is made once as in bench/downloads.sh (schema by the CLI, rows
# of bench/gen_assets.py by bench/fill_sqlite.py).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
RUNS=${RUNS:-3}
WORK=${WORK:-/tmp/streetcell-bench-start}
PORT=${PORT:-18095}
BIN=${BIN:-target/release/streetcell}
BASE=http://127.0.0.1:$PORT
DBFILE=$WORK/start-$N.db
DB=sqlite://$DBFILE
SNAP=$DBFILE.snapshot
mkdir -p "$WORK"
[ -x "$BIN" ] || cargo build --release --quiet

if [ ! -s "$DBFILE" ]; then
  CSV=$WORK/assets-$N.csv
  [ -s "$CSV" ] || python3 bench/gen_assets.py "$N" > "$CSV"
  "$BIN" authority add synthetic --name "Synthetic Borough" --database-url "$DB" >/dev/null
  python3 bench/fill_sqlite.py "$CSV" "$DBFILE" synthetic
fi

secs_since() { echo "scale=2; ($(date +%s%N) - $1) / 1000000000" | bc; }
SERVER=
stop() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true; SERVER=; fi
}
trap stop EXIT
# start LABEL ARGS...: starts the server, prints the time to its first
# answer (the listener opens once the register is loaded), stops it.
start() {
  local label=$1; shift
  # Cold caches would measure the disk; both paths read warm files.
  cat "$DBFILE" "$SNAP" >/dev/null 2>&1 || true
  local t0=$(date +%s%N)
  STREETCELL_RATE_LIMIT=0 "$BIN" serve --public-read --listen "127.0.0.1:$PORT" \
    --database-url "$DB" "$@" >"$WORK/serve.log" 2>&1 &
  SERVER=$!
  until curl -sf "$BASE/healthz" >/dev/null; do sleep 0.02; done
  local t=$(secs_since "$t0")
  local assets=$(curl -s "$BASE/v1/assets/nearest?lon=-2.3&lat=53.5&k=1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["features"]))')
  echo "$label: start-up to first answer $t s (nearest answered $assets feature); $(grep -o 'start-up snapshot[^"]*' "$WORK/serve.log" | head -1)"
  local t1=$(date +%s%N)
  stop
  echo "$label: stop (with snapshot write if enabled) $(secs_since "$t1") s"
}

# The first start writes the snapshot when it stops.
start "warm-up (writes the snapshot)"
ls -l "$SNAP"
for r in $(seq "$RUNS"); do
  start "run $r, database" --no-snapshot
  start "run $r, snapshot"
done
