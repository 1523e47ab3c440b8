#!/usr/bin/env bash
# How long a PATCH waits while a large import runs over HTTP: N synthetic
# BNG rows (default 1M, the CSV bench/import.sh makes) imported into a fresh
# SQLite database, over HTTP or (VIA=cli) by the CLI beside the running
# server, while a client PATCHes another asset every 100 ms and times each
# answer. Prints the answers' status counts and latency percentiles.
#
#   bench/patch_during_import.sh                       # release build
#   VIA=cli bench/patch_during_import.sh
#   BIN=/tmp/old/streetcell bench/patch_during_import.sh
#
# Needs python3 and curl. Works in $WORK (default /tmp/streetcell-import).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
WORK=${WORK:-/tmp/streetcell-import}
PORT=${PORT:-18093}
VIA=${VIA:-http}
mkdir -p "$WORK"
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=target/release/streetcell
fi
CSV=$WORK/assets-bng-$N.csv
[ -s "$CSV" ] || python3 bench/gen_assets.py "$N" --bng > "$CSV"
DB=$WORK/patch-during-import.db
rm -f "$DB" "$DB-wal" "$DB-shm" "$DB.snapshot"
BASE=http://127.0.0.1:$PORT
AUTH="Authorization: Bearer bench-admin-token"
"$BIN" authority add synthetic --name "Synthetic Borough" --database-url "sqlite://$DB" >/dev/null
STREETCELL_RATE_LIMIT=0 STREETCELL_ADMIN_TOKEN=bench-admin-token "$BIN" serve --listen "127.0.0.1:$PORT" \
  --database-url "sqlite://$DB" --request-timeout 3600 --body-timeout 600 >"$WORK/patch-serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
until curl -sf "$BASE/healthz" >/dev/null; do sleep 0.05; done
# The asset the officer edits: not one of the file's.
printf 'ref,kind,lon,lat\nEDITED-1,lamp_post,-2.3,53.4\n' |
  curl -sf -H "$AUTH" -H 'content-type: text/csv' --data-binary @- "$BASE/v1/authorities/synthetic/imports" >/dev/null
ID=$(curl -sf -H "$AUTH" "$BASE/v1/assets?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["features"][0]["id"])')
t0=$(date +%s%N)
if [ "$VIA" = cli ]; then
  "$BIN" import --authority synthetic --crs EPSG:27700 --database-url "sqlite://$DB" "$CSV" >/dev/null &
else
  curl -sf -H "$AUTH" -H 'content-type: text/csv' --data-binary "@$CSV" \
    "$BASE/v1/authorities/synthetic/imports?crs=EPSG:27700" >/dev/null &
fi
IMPORT=$!
TIMES=$WORK/patch-times.txt
: >"$TIMES"
i=0
while kill -0 "$IMPORT" 2>/dev/null; do
  i=$((i + 1))
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -X PATCH -H "$AUTH" \
    -H 'content-type: application/merge-patch+json' --data "{\"properties\":{\"height_m\":$((i % 50 + 1))}}" \
    "$BASE/v1/assets/$ID" >>"$TIMES"
  sleep 0.1
done
wait "$IMPORT"
echo "import of $N rows ($VIA): $(echo "scale=2; ($(date +%s%N) - $t0) / 1000000000" | bc) s"
python3 - "$TIMES" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1])]
codes = {}
for code, _ in rows:
    codes[code] = codes.get(code, 0) + 1
t = sorted(float(s) for _, s in rows)
q = lambda p: t[min(len(t) - 1, int(p * len(t)))] * 1000
print(f"PATCHes {len(t)}, status {codes}; p50 {q(.5):.0f} ms, p90 {q(.9):.0f} ms, "
      f"p99 {q(.99):.0f} ms, max {t[-1] * 1000:.0f} ms")
PY
