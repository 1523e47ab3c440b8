#!/usr/bin/env bash
# National scale: a release build holding N synthetic points (default
# 10,000,000, about the UK's public lighting columns) in SQLite. Prints the
# start-up to first answer from the database and from the start-up snapshot,
# resident memory after start-up and after the reads, and wrk figures for a
# ~100-feature bbox page (the box shrunk with the density, so a page holds
# about as many features as bench/bbox.lua's at 1M) and k=10 nearest.
#
#   bench/national.sh                 # 10M assets
#   N=1000000 bench/national.sh       # the same figures at 1M, to compare
#   SECS=20 CONNS=64 CACHE_MB=64 bench/national.sh   # CACHE_MB: --feature-cache-mb (default 512)
#
# Needs wrk, curl, bc, python3. The fixture (bench/gen_assets.py rows
# written by bench/fill_sqlite.py into a database whose schema the CLI
# made) is built once in $WORK (default /tmp/streetcell-national):
# ~0.8 GB of CSV and ~3.4 GB of database at 10M, plus a 1.5 GB snapshot.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000000}
SECS=${SECS:-20}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
CACHE_MB=${CACHE_MB:-512}
WORK=${WORK:-/tmp/streetcell-national}
PORT=${PORT:-18097}
BIN=${BIN:-target/release/streetcell}
BASE=http://127.0.0.1:$PORT
DBFILE=$WORK/national-$N.db
DB=sqlite://$DBFILE
SNAP=$DBFILE.snapshot
mkdir -p "$WORK"
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 1; }
[ -x "$BIN" ] || cargo build --release --quiet

secs_since() { echo "scale=2; ($(date +%s%N) - $1) / 1000000000" | bc; }
if [ ! -s "$DBFILE" ]; then
  CSV=$WORK/assets-$N.csv
  t0=$(date +%s%N)
  [ -s "$CSV" ] || python3 bench/gen_assets.py "$N" > "$CSV"
  "$BIN" authority add synthetic --name "Synthetic Borough" --database-url "$DB" >/dev/null
  python3 bench/fill_sqlite.py "$CSV" "$DBFILE" synthetic
  echo "fixture of $N assets: $(secs_since "$t0") s"
fi

SERVER=
stop() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true; SERVER=; fi
}
trap stop EXIT
rss() { awk '/VmRSS/ {printf "%.0f MB", $2 / 1024}' "/proc/$SERVER/status"; }
cache() { curl -s "$BASE/metrics" | awk '/^streetcell_feature_cache_bytes/ {printf "%.0f MB", $2 / 1048576}'; }
# start LABEL ARGS...: starts the server and prints its start-up time.
start() {
  local label=$1; shift
  cat "$DBFILE" "$SNAP" >/dev/null 2>&1 || true # warm files: measure the load, not the disk
  local t0=$(date +%s%N)
  STREETCELL_RATE_LIMIT=0 STREETCELL_FEATURE_CACHE_MB=$CACHE_MB "$BIN" serve --public-read \
    --listen "127.0.0.1:$PORT" --database-url "$DB" "$@" >"$WORK/serve.log" 2>&1 &
  SERVER=$!
  until curl -sf "$BASE/healthz" >/dev/null; do sleep 0.05; done
  echo "$label: start-up to first answer $(secs_since "$t0") s, resident $(rss) ($(curl -s "$BASE/healthz"))"
}

# From the database (no snapshot yet); stopping writes the snapshot.
rm -f "$SNAP"
start "database"
t0=$(date +%s%N)
stop
echo "stop, writing the snapshot: $(secs_since "$t0") s ($(du -h "$SNAP" | cut -f1))"
start "snapshot"

# Box shrunk by sqrt(N / 1M) each way: ~100 features at any N.
SCALE=$(echo "scale=6; sqrt($N / 1000000)" | bc)
export BBOX_W=$(echo "scale=8; 0.0085 / $SCALE" | bc) BBOX_H=$(echo "scale=8; 0.004 / $SCALE" | bc)
echo "bbox ${BBOX_W} x ${BBOX_H} degrees: $(curl -s "$BASE/collections/assets/items?bbox=-2.3,53.5,$(echo "-2.3 + $BBOX_W" | bc),$(echo "53.5 + $BBOX_H" | bc)&limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["numberMatched"], "features in one sample box")')"
for run in 1 2; do
  echo "--- run $run: bbox page (wrk -t$THREADS -c$CONNS -d${SECS}s)"
  wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency -s bench/bbox.lua "$BASE" | grep -E "Requests/sec|Latency |  50%|  99%"
  echo "resident $(rss), features kept $(cache)"
  echo "--- run $run: k=10 nearest"
  wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency -s bench/nearest.lua "$BASE" | grep -E "Requests/sec|Latency |  50%|  99%"
  echo "resident $(rss), features kept $(cache)"
done
