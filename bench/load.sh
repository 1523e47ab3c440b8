#!/usr/bin/env bash
# Load test of a release build holding N synthetic assets (default 1M).
#
#   bench/load.sh            # 1,000,000 assets, 30 s per run, 64 connections
#   N=200000 SECS=10 bench/load.sh
#   WARM=10                 # seconds of bbox load before the measured run
#   THREADS=1               # wrk threads (default 2; they share the server's cores)
#
# Needs wrk (apt-get install wrk), curl and python3. Works in $WORK
# (default /tmp/streetcell-bench); the CSV and database are reused across
# runs. Prints: import and start-up times, wrk results for a ~100-feature
# bbox page (OGC items) and k=10 nearest, and a full export of every
# feature through the OGC items endpoint (limit=10000 pages).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
SECS=${SECS:-30}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
WORK=${WORK:-/tmp/streetcell-bench}
PORT=${PORT:-18080}
ADMIN=bench-admin-token
BASE=http://127.0.0.1:$PORT
mkdir -p "$WORK"
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 1; }

cargo build --release --quiet
BIN=target/release/streetcell
CSV=$WORK/assets-$N.csv
DB=sqlite://$WORK/bench-$N.db
[ -s "$CSV" ] || python3 bench/gen_assets.py "$N" > "$CSV"

serve() {
  STREETCELL_RATE_LIMIT=0 STREETCELL_ADMIN_TOKEN=$ADMIN "$BIN" serve --public-read --listen "127.0.0.1:$PORT" \
    --database-url "$DB" >"$WORK/serve.log" 2>&1 &
  SERVER=$!
  local t0=$(date +%s%N)
  until curl -sf "$BASE/healthz" >/dev/null; do sleep 0.05; done
  echo "start-up to first answer: $(secs_since "$t0") s ($(curl -s "$BASE/healthz"))"
}
secs_since() { echo "scale=3; ($(date +%s%N) - $1) / 1000000000" | bc; }
stop() { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true; }
trap stop EXIT

serve
if [ "$(curl -s "$BASE/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["assets"])')" -lt "$N" ]; then
  curl -sf -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' \
    -d '{"code":"synthetic","name":"Synthetic Borough"}' "$BASE/v1/authorities" >/dev/null || true
  # The CLI writes straight to the database (the running server would
  # otherwise fold its index on every few thousand rows); the restart below
  # then bulk-loads the index, as a production start-up does.
  stop
  t0=$(date +%s%N)
  "$BIN" import --authority synthetic --database-url "$DB" --json "$CSV" | python3 -c \
    'import json,sys; r=json.load(sys.stdin); print("import: inserted", r["inserted"], "updated", r["updated"], "rejected", len(r["rejected"]))'
  echo "import of $N rows (CLI, SQLite): $(secs_since "$t0") s"
  serve
fi

rss() { echo "server resident memory: $(awk '/VmRSS/ {printf "%.0f MB", $2 / 1024}' /proc/$SERVER/status)"; }

echo
rss
echo "== bbox page of ~100 features, $CONNS connections, $THREADS wrk threads, ${SECS}s"
curl -s "$BASE/collections/assets/items?bbox=-2.3,53.5,-2.2915,53.504&limit=100" \
  | python3 -c 'import json,sys; b=json.load(sys.stdin); print("sample page: numberMatched", b["numberMatched"])'
# Each asset's GeoJSON is encoded the first time a page needs it and kept
# (src/index, Located::geojson). The first pass after start-up pays that for
# the assets it touches; it is reported apart from the measured run.
echo "-- first ${WARM:-10}s after start-up (features encoded on first touch):"
wrk -t"$THREADS" -c"$CONNS" -d"${WARM:-10}s" --latency -s bench/bbox.lua "$BASE" | grep -E "Requests/sec| 99%"
rss
echo "-- measured run:"
wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency -s bench/bbox.lua "$BASE"

echo
echo "== k=10 nearest, $CONNS connections, $THREADS wrk threads, ${SECS}s"
wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency -s bench/nearest.lua "$BASE"

echo
echo "== full export: every feature through /collections/assets/items, limit=10000"
matched=$(curl -s "$BASE/collections/assets/items?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["numberMatched"])')
args=()
for ((o = 0; o < matched; o += 10000)); do
  args+=(-o /dev/null "$BASE/collections/assets/items?limit=10000&offset=$o")
done
# One curl, one kept-alive connection, pages fetched one after another as a
# GIS client following `next` links would.
t0=$(date +%s%N)
bytes=$(curl -s -w '%{size_download}\n' "${args[@]}" | awk '{s += $1} END {print s}')
t=$(secs_since "$t0")
echo "exported $matched features, $bytes bytes in $t s: $(echo "scale=1; $bytes / $t / 1000000" | bc) MB/s"
rss
