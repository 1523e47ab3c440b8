#!/usr/bin/env bash
# How much a running server spends picking up another process's writes:
# starts BINARY on a fresh SQLite database, imports N synthetic rows with
# the CLI (which writes to the database, not through the server), and
# reports the server's CPU time over the import and how long after it the
# server's index held every row.
#
#   bench/catchup.sh target/release/streetcell          # N=100000
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:?usage: $0 BINARY}
N=${N:-100000}
PORT=${PORT:-18090}
WORK=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$WORK"' EXIT
DB=sqlite://$WORK/db.sqlite
BASE=http://127.0.0.1:$PORT
python3 bench/gen_assets.py "$N" > "$WORK/assets.csv"
STREETCELL_ADMIN_TOKEN=adm "$BIN" serve --listen "127.0.0.1:$PORT" --database-url "$DB" \
  >"$WORK/serve.log" 2>&1 &
server=$!
until curl -sf "$BASE/healthz" >/dev/null; do sleep 0.1; done
curl -sf -H "Authorization: Bearer adm" -H 'content-type: application/json' \
  -d '{"code":"synthetic","name":"Synthetic Borough"}' "$BASE/v1/authorities" >/dev/null
ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
cpu0=$(ticks)
"$BIN" import --authority synthetic --database-url "$DB" --json "$WORK/assets.csv" >/dev/null
t0=$(date +%s%N)
until [ "$(curl -s "$BASE/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["assets"])')" = "$N" ]; do
  sleep 0.1
done
echo "server CPU over the import and catch-up: $(( ($(ticks) - cpu0) * 10 )) ms"
echo "every row in the server's index $(( ($(date +%s%N) - t0) / 1000000 )) ms after the import ended"
