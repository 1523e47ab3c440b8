#!/usr/bin/env bash
# Bounded soak of a release build: steady mixed reads and writes, reporting
# errors, p50/p99 latency and resident memory every 10 s (bench/soak.py).
#
#   bench/soak.sh                    # 100,000 assets, 10 minutes, 200 req/s
#   N=20000 SECS=60 RATE=100 bench/soak.sh
#   DB=postgres://... bench/soak.sh  # PostgreSQL instead of a SQLite file
#
# Flat memory and no errors is the pass. Works in $WORK (default
# /tmp/streetcell-soak); needs curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
SECS=${SECS:-600}
RATE=${RATE:-200}
WORK=${WORK:-/tmp/streetcell-soak}
PORT=${PORT:-18090}
ADMIN=soak-admin-token
BASE=http://127.0.0.1:$PORT
mkdir -p "$WORK"
cargo build --release --quiet
BIN=target/release/streetcell
CSV=$WORK/assets-$N.csv
DB=${DB:-sqlite://$WORK/soak-$N.db}
[ -s "$CSV" ] || python3 bench/gen_assets.py "$N" > "$CSV"

STREETCELL_ADMIN_TOKEN=$ADMIN "$BIN" serve --listen "127.0.0.1:$PORT" --database-url "$DB" \
  >"$WORK/serve.log" 2>&1 &
SERVER=$!
stop() { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true; }
trap stop EXIT
until curl -sf "$BASE/readyz" >/dev/null; do sleep 0.1; done
assets=$(curl -s "$BASE/readyz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["assets"])')
if [ "$assets" -lt "$N" ]; then
  curl -sf -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' \
    -d '{"code":"synthetic","name":"Synthetic Borough"}' "$BASE/v1/authorities" >/dev/null || true
  curl -sf -H "Authorization: Bearer $ADMIN" -H 'content-type: text/csv' --data-binary "@$CSV" \
    "$BASE/v1/authorities/synthetic/imports" | python3 -c \
    'import json,sys; r=json.load(sys.stdin); print("loaded:", r["inserted"], "inserted,", r["updated"], "updated,", r["rejected_total"], "rejected")'
fi
echo "soak: $SECS s at $RATE req/s against $(curl -s "$BASE/readyz")"
status=0
python3 bench/soak.py "$BASE" "$ADMIN" "$SERVER" "$SECS" "$RATE" || status=$?
echo "server errors logged: $(grep -c '"level":"ERROR"\|ERROR' "$WORK/serve.log" || true)"
exit "$status"
