#!/usr/bin/env bash
# Import and start-up at scale: N synthetic CSV rows in British National Grid
# (default 1M) imported by the CLI and over HTTP into a fresh SQLite file and
# a fresh PostgreSQL database each, then the time from `serve` to its first
# answer over the imported register.
#
#   bench/import.sh                          # everything, release build
#   N=100000 bench/import.sh                 # smaller
#   ONLY="cli-sqlite startup-sqlite" bench/import.sh
#   BIN=/tmp/old/streetcell bench/import.sh  # another build (before/after)
#
# Needs python3, curl, and for PostgreSQL `createdb`/`dropdb` and a server
# at $PG (default postgres://postgres@127.0.0.1:5432; the script makes and
# drops databases named import_bench_*). Works in $WORK (default
# /tmp/streetcell-import); the CSV is reused across runs, databases are not.
# Prints one line per measurement: what, rows, seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
WORK=${WORK:-/tmp/streetcell-import}
PORT=${PORT:-18090}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
ONLY=${ONLY:-cli-sqlite cli-postgres http-sqlite http-postgres startup-sqlite startup-postgres}
ADMIN=bench-admin-token
BASE=http://127.0.0.1:$PORT
mkdir -p "$WORK"
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=target/release/streetcell
fi
CSV=$WORK/assets-bng-$N.csv
[ -s "$CSV" ] || python3 bench/gen_assets.py "$N" --bng > "$CSV"
PG_HOST=$(echo "$PG" | sed -E 's#^postgres(ql)?://([^@]*@)?([^:/]*).*#\3#')
PG_USER=$(echo "$PG" | sed -E 's#^postgres(ql)?://([^@:]*)[:@].*#\2#')

secs_since() { echo "scale=2; ($(date +%s%N) - $1) / 1000000000" | bc; }
wants() { [[ " $ONLY " == *" $1 "* ]]; }

# A fresh database of the given kind with the authority `synthetic`; prints its URL.
fresh() {
  local url
  if [ "$1" = sqlite ]; then
    rm -f "$WORK/$2.db" "$WORK/$2.db-wal" "$WORK/$2.db-shm"
    url=sqlite://$WORK/$2.db
  else
    dropdb -h "$PG_HOST" -U "$PG_USER" --if-exists "import_bench_$2" >/dev/null
    createdb -h "$PG_HOST" -U "$PG_USER" "import_bench_$2"
    url=$PG/import_bench_$2
  fi
  "$BIN" authority add synthetic --name "Synthetic Borough" --database-url "$url" >/dev/null
  echo "$url"
}

SERVER=
serve() {
  STREETCELL_RATE_LIMIT=0 STREETCELL_ADMIN_TOKEN=$ADMIN "$BIN" serve --listen "127.0.0.1:$PORT" \
    --database-url "$1" --request-timeout 3600 --body-timeout 600 >"$WORK/serve.log" 2>&1 &
  SERVER=$!
  until curl -sf "$BASE/healthz" >/dev/null; do sleep 0.02; done
}
stop() {
  if [ -n "$SERVER" ]; then
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    SERVER=
  fi
}
trap stop EXIT

report() { python3 -c 'import json,sys; r=json.load(sys.stdin); print("inserted", r["inserted"], "updated", r["updated"], "rejected", r["rejected_total"])'; }

cli_import() {
  local url t0
  url=$(fresh "$1" "cli_$1")
  t0=$(date +%s%N)
  "$BIN" import --authority synthetic --crs EPSG:27700 --database-url "$url" --json "$CSV" | report
  echo "import-cli-$1 $N rows: $(secs_since "$t0") s"
}

http_import() {
  local url t0
  url=$(fresh "$1" "http_$1")
  serve "$url"
  t0=$(date +%s%N)
  curl -sf -H "Authorization: Bearer $ADMIN" -H 'content-type: text/csv' --data-binary "@$CSV" \
    "$BASE/v1/authorities/synthetic/imports?crs=EPSG:27700" | report
  echo "import-http-$1 $N rows: $(secs_since "$t0") s"
  stop
}

# From starting `serve` to its first answer (it listens once the index is
# loaded), over the database the CLI import filled; three starts.
startup() {
  local url t0
  if [ "$1" = sqlite ]; then url=sqlite://$WORK/cli_sqlite.db; else url=$PG/import_bench_cli_postgres; fi
  for run in 1 2 3; do
    t0=$(date +%s%N)
    serve "$url"
    echo "startup-$1 run $run, $(curl -s "$BASE/healthz"): $(secs_since "$t0") s"
    echo "  resident memory $(awk '/VmRSS/ {printf "%.0f MB", $2 / 1024}' "/proc/$SERVER/status")"
    stop
  done
}

echo "binary $BIN ($(stat -c %y "$BIN" | cut -d. -f1)), $N rows, load $(cut -d' ' -f1-3 /proc/loadavg)"
wants cli-sqlite && cli_import sqlite
wants cli-postgres && cli_import postgres
wants http-sqlite && http_import sqlite
wants http-postgres && http_import postgres
wants startup-sqlite && startup sqlite
wants startup-postgres && startup postgres
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
