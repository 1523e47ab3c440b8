#!/usr/bin/env bash
# Side by side on one machine (issue 12): the same N synthetic points (default
# 1M, bench/gen_assets.py --bng) in Streetcell on SQLite and on PostgreSQL, in
# PostgreSQL + PostGIS behind tipg, and one Streetcell bbox page served as a
# static file by nginx (the ceiling of the HTTP path on these cores).
#
#   bench/sidebyside.sh                          # 1M points, 2 rounds of 8 s runs
#   N=100000 ROUNDS=1 DURATION=4 bench/sidebyside.sh
#   SKIP_EXPORTS=1 KEEP=1 bench/sidebyside.sh    # no ogr2ogr pulls; keep the databases
#
# Measures, alternating the systems within each round (the order reversed
# every other round, so a burst of load from elsewhere hits both):
#   import      Streetcell's CLI import (EPSG:27700 -> lon/lat with OSTN15) into
#               SQLite and into PostgreSQL; PostGIS: psql \copy, ST_Transform,
#               primary key and GiST index
#   start-up    launch to first answer (Streetcell /healthz; tipg /collections); Streetcell from the
#               database in round 1 and from its start-up snapshot in later rounds
#   bbox        ~100-feature items pages at random bboxes (wrk, 64 connections);
#               nginx serving one such page as a static file
#   filtered    the same with a CQL2 filter kind='bus_shelter' in a ~12x larger
#               bbox (~100 features)
#   knn         k=10 nearest: Streetcell /v1/assets/nearest over HTTP against
#               pgbench running `ORDER BY geom <-> point LIMIT 10` (SQL, no HTTP)
#   tiles       random z14 vector tiles: Streetcell and tipg over HTTP, pgbench
#               running ST_AsMVT
#   export      ogr2ogr pulling all N features into a GeoPackage: Streetcell's
#               FlatGeobuf download, Streetcell's OAPIF items, tipg's OAPIF
#               items, and PostGIS read directly (EXPORT_ROUNDS, default 1)
#   memory      resident memory after start-up and at the end (Streetcell:
#               VmRSS; tipg: VmRSS of its processes; PostgreSQL: PSS of its
#               processes, shared buffers included, page cache not)
# Writes raw figures to $WORK/results.tsv (wrk's and pgbench's own output to
# $WORK/raw.txt) and prints a markdown summary (medians over rounds, ratios,
# issue-12 targets) at the end, also kept in $WORK/summary.md.
#
# Needs a PostgreSQL 15 server at $PG (trust auth for its user) on this host,
# because the PostGIS extension is installed into the local server by apt. It
# makes and drops the databases sc_bench and postgis_bench. Servers it starts
# are stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-1000000}
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-8}
WARM=${WARM:-4}
EXPORT_ROUNDS=${EXPORT_ROUNDS:-1}
EXPORT_TIMEOUT=${EXPORT_TIMEOUT:-400}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
# pgbench clients: PostgreSQL's default max_connections (100) is shared with both
# servers' pools (Streetcell ≤ 20, tipg ≤ 2 × 10); 32 clients already keep both cores busy.
PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-32}
WORK=${WORK:-/tmp/streetcell-sidebyside}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
VENV=${VENV:-$WORK/venv}
KEEP=${KEEP:-0}
SC_PORT=18181 SCPG_PORT=18182 TIPG_PORT=18183 NGINX_PORT=18184
SC=http://127.0.0.1:$SC_PORT SCPG=http://127.0.0.1:$SCPG_PORT
TIPG=http://127.0.0.1:$TIPG_PORT NGINX=http://127.0.0.1:$NGINX_PORT
mkdir -p "$WORK"

# --- what it needs (skipped when already there) -------------------------------
have() { command -v "$1" >/dev/null 2>&1; }
# (pgbench ships with the server package; /usr/bin/pgbench is only a wrapper.)
if ! have wrk || ! have nginx || ! have ogr2ogr || ! have psql || ! have bc || ! have curl ||
  ! ls /usr/lib/postgresql/*/bin/pgbench /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y wrk nginx-light gdal-bin bc curl \
    postgresql-15 postgresql-15-postgis-3
fi
if [ ! -x "$VENV/bin/uvicorn" ] || ! "$VENV/bin/python" -c 'import tipg' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet tipg uvicorn
fi
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=${CARGO_TARGET_DIR:-target}/release/streetcell
fi

PG_HOST=$(sed -E 's#^postgres(ql)?://([^@]*@)?([^:/]*).*#\3#' <<<"$PG")
PG_PORT=$(sed -E 's#^postgres(ql)?://([^@]*@)?[^:/]*:?([0-9]*).*#\3#' <<<"$PG")
PG_PORT=${PG_PORT:-5432}
PG_USER=$(sed -E 's#^postgres(ql)?://([^@:]*)[:@].*#\2#' <<<"$PG")
PGARGS=(-h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER")
psql_q() { psql "${PGARGS[@]}" -X -q -v ON_ERROR_STOP=1 "$@"; }

# --- bookkeeping ---------------------------------------------------------------
RESULTS=$WORK/results.tsv
: >"$RESULTS"; : >"$WORK/raw.txt"
# record SYSTEM MEASURE ROUND VALUE UNIT
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"; echo "  $1 $2 (round $3): $4 $5"; }
now() { date +%s%N; }
secs_since() { echo "scale=3; ($(now) - $1) / 1000000000" | bc; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
note_load() { record machine "load-$1" 0 "$(cut -d' ' -f1 /proc/loadavg)" "load1"; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
# Resident memory of a process and its children (tipg's uvicorn workers).
tree_rss_mb() {
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do total=$((total + $(awk '/VmRSS/ {print $2}' "/proc/$p/status"))); done
  echo $((total / 1024))
}
# PostgreSQL's processes (shared memory counted once, by PSS).
pg_pss_mb() {
  local total=0 p
  for p in $(pgrep -x postgres || pgrep -f '^postgres:' || true); do
    total=$((total + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
  done
  echo $((total / 1024))
}

PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -s "$WORK/nginx.pid" ]; then kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true; fi
  if [ "$KEEP" != 1 ]; then
    dropdb "${PGARGS[@]}" --if-exists sc_bench 2>/dev/null || true
    dropdb "${PGARGS[@]}" --if-exists postgis_bench 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
forget() { local keep=() p; for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; PIDS=("${keep[@]}"); }
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; forget "$1"; }
wait_for() { until curl -sf -o /dev/null "$1"; do sleep 0.05; done; }

# Rounds alternate the order of the systems: forward on odd rounds, reversed on even.
ordered() {
  local round=$1; shift
  if ((round % 2)); then echo "$@"; else printf '%s\n' "$@" | tac | tr '\n' ' '; fi
}

echo "sidebyside: N=$N ROUNDS=$ROUNDS DURATION=${DURATION}s CONNS=$CONNS THREADS=$THREADS, $(nproc) cores"
echo "binary $BIN ($(stat -c %y "$BIN" | cut -d. -f1)); $(psql_q -d postgres -Atc 'select version()' | cut -d' ' -f1-2);" \
  "tipg $("$VENV/bin/python" -c 'import tipg; print(tipg.__version__)'); $(nginx -v 2>&1); $(ogr2ogr --version)"
note_load start

# --- data ----------------------------------------------------------------------
CSV=$WORK/assets-bng-$N.csv
[ -s "$CSV" ] || python3 bench/gen_assets.py "$N" --bng >"$CSV"

# --- import ----------------------------------------------------------------------
import_sqlite() {
  rm -f "$WORK"/sc.db "$WORK"/sc.db-wal "$WORK"/sc.db-shm
  "$BIN" authority add synthetic --name "Synthetic Borough" --database-url "sqlite://$WORK/sc.db" >/dev/null
  local t0; t0=$(now)
  "$BIN" import --authority synthetic --crs EPSG:27700 --database-url "sqlite://$WORK/sc.db" --json "$CSV" >"$WORK/import-sqlite.json"
  record streetcell-sqlite import 1 "$(secs_since "$t0")" s
}
import_postgres() {
  dropdb "${PGARGS[@]}" --if-exists sc_bench; createdb "${PGARGS[@]}" sc_bench
  "$BIN" authority add synthetic --name "Synthetic Borough" --database-url "$PG/sc_bench" >/dev/null
  local t0; t0=$(now)
  "$BIN" import --authority synthetic --crs EPSG:27700 --database-url "$PG/sc_bench" --json "$CSV" >"$WORK/import-postgres.json"
  record streetcell-postgres import 1 "$(secs_since "$t0")" s
}
import_postgis() {
  dropdb "${PGARGS[@]}" --if-exists postgis_bench; createdb "${PGARGS[@]}" postgis_bench
  psql_q -d postgis_bench -c 'CREATE EXTENSION postgis'
  local t0; t0=$(now)
  psql_q -d postgis_bench <<SQL
BEGIN;
CREATE TEMP TABLE raw (ref text, kind text, easting float8, northing float8, height_m float8,
  power_supply text, status text, install_year int, column_type text);
\copy raw FROM '$CSV' WITH (FORMAT csv, HEADER true)
CREATE TABLE assets AS SELECT ref AS id, kind, height_m, power_supply, status, install_year, column_type,
  ST_Transform(ST_SetSRID(ST_MakePoint(easting, northing), 27700), 4326)::geometry(Point, 4326) AS geom FROM raw;
ALTER TABLE assets ADD PRIMARY KEY (id);
CREATE INDEX assets_geom ON assets USING gist (geom);
COMMIT;
ANALYZE assets;
SQL
  record postgis import 1 "$(secs_since "$t0")" s
}
echo "== import of $N BNG rows"
import_sqlite
import_postgres
import_postgis
for f in sqlite postgres; do
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("  streetcell-" + sys.argv[2] + ":", r["inserted"], "inserted,", r["rejected_total"], "rejected")' \
    "$WORK/import-$f.json" "$f"
done
echo "  postgis: $(psql_q -d postgis_bench -Atc 'select count(*) from assets') rows"
note_load import

# --- start-up ----------------------------------------------------------------------
SC_PID= SCPG_PID= TIPG_PID=
# Each Streetcell writes a start-up snapshot ($WORK/NAME.snapshot) when it stops: round 1 starts from the
# database (no snapshot yet), later rounds from the snapshot the round before wrote.
rm -f "$WORK/sc.snapshot" "$WORK/scpg.snapshot"
start_streetcell() { # NAME PORT DATABASE_URL
  local t0 pid; t0=$(now)
  STREETCELL_RATE_LIMIT=0 "$BIN" serve --public-read --listen "127.0.0.1:$2" --database-url "$3" \
    --snapshot "$WORK/$1.snapshot" \
    >"$WORK/$1.log" 2>&1 &
  pid=$!; PIDS+=("$pid")
  wait_for "http://127.0.0.1:$2/healthz"
  STARTUP=$(secs_since "$t0"); STARTED=$pid
}
start_tipg() {
  local t0 pid; t0=$(now)
  DATABASE_URL=$PG/postgis_bench TIPG_DB_SCHEMAS='["public"]' TIPG_DB_TABLES='["public.assets"]' TIPG_DB_FUNCTIONS='[]' \
    TIPG_MAX_FEATURES_PER_QUERY=10000 \
    "$VENV/bin/uvicorn" tipg.main:app --host 127.0.0.1 --port "$TIPG_PORT" --workers 2 --no-access-log \
    --log-level warning >"$WORK/tipg.log" 2>&1 </dev/null &
  pid=$!; PIDS+=("$pid")
  wait_for "$TIPG/collections/public.assets"
  STARTUP=$(secs_since "$t0"); STARTED=$pid
}
echo "== start-up (launch to first answer)"
for round in $(seq "$ROUNDS"); do
  for sys in $(ordered "$round" streetcell-sqlite streetcell-postgres tipg); do
    case $sys in
      streetcell-sqlite) start_streetcell sc "$SC_PORT" "sqlite://$WORK/sc.db"; SC_PID=$STARTED ;;
      streetcell-postgres) start_streetcell scpg "$SCPG_PORT" "$PG/sc_bench"; SCPG_PID=$STARTED ;;
      tipg) start_tipg; TIPG_PID=$STARTED ;;
    esac
    case $sys in
      tipg) record "$sys" startup "$round" "$STARTUP" s ;;
      *) if [ "$round" -eq 1 ]; then from=database; else from=snapshot; fi
         record "$sys" "startup-$from" "$round" "$STARTUP" s ;;
    esac
    if [ "$round" -lt "$ROUNDS" ]; then stop "$STARTED"; fi
  done
done
echo "  streetcell-sqlite: $(curl -s "$SC/healthz"); streetcell-postgres: $(curl -s "$SCPG/healthz")"
record streetcell-sqlite rss-startup 1 "$(rss_mb "$SC_PID")" MB
record streetcell-postgres rss-startup 1 "$(rss_mb "$SCPG_PID")" MB
record tipg rss-startup 1 "$(tree_rss_mb "$TIPG_PID")" MB
record postgresql pss-startup 1 "$(pg_pss_mb)" MB
note_load startup

# --- nginx: one Streetcell bbox page as a static file --------------------------------
mkdir -p "$WORK/www" "$WORK/nginx-tmp"
curl -sf -o "$WORK/www/page.json" "$SC/collections/assets/items?bbox=-2.3,53.5,-2.2915,53.504&limit=100"
cat >"$WORK/nginx.conf" <<CONF
worker_processes $(nproc);
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $WORK/nginx-tmp; proxy_temp_path $WORK/nginx-tmp; fastcgi_temp_path $WORK/nginx-tmp;
  uwsgi_temp_path $WORK/nginx-tmp; scgi_temp_path $WORK/nginx-tmp;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/www;
    default_type application/geo+json;
  }
}
CONF
nginx -c "$WORK/nginx.conf" -p "$WORK"
wait_for "$NGINX/page.json"
echo "  nginx serves page.json: $(stat -c %s "$WORK/www/page.json") bytes," \
  "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["features"]))' "$WORK/www/page.json") features"

# --- HTTP load --------------------------------------------------------------------
ms() { # wrk's latency ("812.00us", "2.10ms", "1.02s") in milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n *= 1; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}
bytes() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /KB$/) n *= 1024; else if (v ~ /MB$/) n *= 1048576; else if (v ~ /GB$/) n *= 1073741824; printf "%.0f", n }'; }
# wrk_run SYSTEM MEASURE ROUND URL [LUA] (environment for the Lua script set by the caller)
wrk_run() {
  local out args=(-t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency)
  [ -n "${5:-}" ] && args+=(-s "$5")
  out=$(wrk "${args[@]}" "$4")
  printf "== %s %s round %s: wrk %s %s\n%s\n" "$1" "$2" "$3" "${args[*]}" "$4" "$out" >>"$WORK/raw.txt"
  local rps p50 p99 tps errs
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  tps=$(bytes "$(awk '/Transfer\/sec/ {print $2}' <<<"$out")")
  errs=$(awk '/Non-2xx/ {s += $NF} /Socket errors/ {gsub(",", ""); s += $4 + $6 + $8 + $10} END {print s + 0}' <<<"$out")
  record "$1" "$2" "$3" "$rps" req/s
  record "$1" "$2-p50" "$3" "$p50" ms
  record "$1" "$2-p99" "$3" "$p99" ms
  record "$1" "$2-bytes" "$3" "$(echo "$tps / $rps" | bc)" B
  [ "$errs" = 0 ] || record "$1" "$2-errors" "$3" "$errs" responses
}
warm() { wrk -t"$THREADS" -c"$CONNS" -d"${WARM}s" ${2:+-s "$2"} "$1" >/dev/null; }

FILTER_QUERY="&filter=kind%3D%27bus_shelter%27"
# Warm-up: Streetcell encodes each feature's GeoJSON the first time a page
# needs it; PostgreSQL brings the table and index into its buffers.
echo "== warm-up (${WARM}s each)"
warm "$SC" bench/bbox.lua; warm "$SCPG" bench/bbox.lua
ITEMS_PATH=/collections/public.assets/items warm "$TIPG" bench/bbox.lua
warm "$NGINX/page.json"

# pgbench scripts (the points and tiles of bench/nearest.lua and bench/tiles.lua)
cat >"$WORK/knn.sql" <<'SQL'
\set x random(0, 850000)
\set y random(0, 400000)
SELECT id, kind, status, height_m, power_supply, install_year, column_type, ST_AsGeoJSON(geom)
  FROM assets ORDER BY geom <-> ST_SetSRID(ST_MakePoint(-2.75 + :x / 1000000.0, 53.30 + :y / 1000000.0), 4326) LIMIT 10;
SQL
read -r TX0 TX1 TY0 TY1 < <(python3 -c '
import math
z = 14
tx = lambda lon: math.floor((lon + 180) / 360 * 2 ** z)
ty = lambda lat: math.floor((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * 2 ** z)
print(tx(-2.75) + 1, tx(-1.90) - 1, ty(53.70) + 1, ty(53.30) - 1)')
cat >"$WORK/mvt.sql" <<SQL
\set x random($TX0, $TX1)
\set y random($TY0, $TY1)
WITH b AS (SELECT ST_TileEnvelope(14, :x, :y) AS env),
m AS (SELECT ST_AsMVTGeom(ST_Transform(a.geom, 3857), b.env, 4096, 64) AS geom, a.id, a.kind, a.status, a.height_m, a.power_supply
  FROM assets a, b WHERE a.geom && ST_Transform(b.env, 4326))
SELECT ST_AsMVT(m.*, 'assets') FROM m;
SQL
pgbench_run() { # SYSTEM MEASURE ROUND SCRIPT
  local out
  out=$(pgbench "${PGARGS[@]}" -n -M prepared -c "$PGBENCH_CLIENTS" -j "$THREADS" -T "$DURATION" -f "$4" postgis_bench 2>&1)
  printf "== %s %s round %s: pgbench -f %s\n%s\n" "$1" "$2" "$3" "$4" "$out" >>"$WORK/raw.txt"
  record "$1" "$2" "$3" "$(awk '/^tps/ {print $3}' <<<"$out" | head -1)" tx/s
  record "$1" "$2-mean" "$3" "$(awk '/latency average/ {print $4}' <<<"$out")" ms
  local failed; failed=$(awk '/number of failed transactions/ {print $5}' <<<"$out")
  [ "${failed:-0}" = 0 ] || record "$1" "$2-errors" "$3" "$failed" transactions
}

for round in $(seq "$ROUNDS"); do
  echo "== round $round: bbox pages (~100 features), $CONNS connections, ${DURATION}s"
  for sys in $(ordered "$round" streetcell-sqlite streetcell-postgres tipg nginx); do
    case $sys in
      streetcell-sqlite) wrk_run "$sys" bbox "$round" "$SC" bench/bbox.lua ;;
      streetcell-postgres) wrk_run "$sys" bbox "$round" "$SCPG" bench/bbox.lua ;;
      tipg) ITEMS_PATH=/collections/public.assets/items wrk_run "$sys" bbox "$round" "$TIPG" bench/bbox.lua ;;
      nginx) wrk_run "$sys" bbox "$round" "$NGINX/page.json" ;;
    esac
  done
  echo "== round $round: k=10 nearest"
  for sys in $(ordered "$round" streetcell-sqlite streetcell-postgres postgis-sql); do
    case $sys in
      streetcell-sqlite) wrk_run "$sys" knn "$round" "$SC" bench/nearest.lua ;;
      streetcell-postgres) wrk_run "$sys" knn "$round" "$SCPG" bench/nearest.lua ;;
      postgis-sql) pgbench_run "$sys" knn "$round" "$WORK/knn.sql" ;;
    esac
  done
  echo "== round $round: filtered pages (kind = 'bus_shelter' in a ~12x bbox)"
  for sys in $(ordered "$round" streetcell-sqlite tipg); do
    case $sys in
      streetcell-sqlite) BBOX_W=0.03 BBOX_H=0.01414 QUERY=$FILTER_QUERY wrk_run "$sys" filtered "$round" "$SC" bench/bbox.lua ;;
      tipg) ITEMS_PATH=/collections/public.assets/items BBOX_W=0.03 BBOX_H=0.01414 QUERY="$FILTER_QUERY&filter-lang=cql2-text" \
        wrk_run "$sys" filtered "$round" "$TIPG" bench/bbox.lua ;;
    esac
  done
  echo "== round $round: z14 vector tiles"
  for sys in $(ordered "$round" streetcell-sqlite tipg postgis-sql); do
    case $sys in
      streetcell-sqlite) wrk_run "$sys" tiles "$round" "$SC" bench/tiles.lua ;;
      tipg) TILE_PATH='/collections/public.assets/tiles/WebMercatorQuad/{z}/{x}/{y}' wrk_run "$sys" tiles "$round" "$TIPG" bench/tiles.lua ;;
      postgis-sql) pgbench_run "$sys" tiles "$round" "$WORK/mvt.sql" ;;
    esac
  done
  note_load "round$round"
done

# --- exports by ogr2ogr ------------------------------------------------------------------
if [ "${SKIP_EXPORTS:-0}" != 1 ]; then
  export_run() { # SYSTEM ROUND SOURCE [LAYER] [OPEN OPTIONS...]
    local sys=$1 round=$2 src=$3 t0 out=$WORK/export.gpkg; shift 3
    rm -f "$out"; t0=$(now)
    if timeout "$EXPORT_TIMEOUT" ogr2ogr -f GPKG "$out" "$src" "$@" >"$WORK/ogr2ogr-$sys.log" 2>&1; then
      record "$sys" export "$round" "$(secs_since "$t0")" s
      record "$sys" export-features "$round" "$(ogrinfo -so -al "$out" | awk '/Feature Count/ {print $3}')" features
    else
      record "$sys" export "$round" "timeout-or-error" "(>${EXPORT_TIMEOUT}s or failed: $WORK/ogr2ogr-$sys.log)"
    fi
  }
  for round in $(seq "$EXPORT_ROUNDS"); do
    echo "== export round $round: ogr2ogr into a GeoPackage (GDAL's default R-tree)"
    for sys in $(ordered "$round" streetcell-fgb postgis-direct streetcell-oapif tipg-oapif); do
      case $sys in
        streetcell-fgb) export_run "$sys" "$round" "/vsicurl_streaming/$SC/collections/assets/download/assets.fgb" ;;
        streetcell-oapif) export_run "$sys" "$round" "OAPIF:$SC" assets -oo PAGE_SIZE=10000 ;;
        tipg-oapif) export_run "$sys" "$round" "OAPIF:$TIPG" public.assets -oo PAGE_SIZE=10000 ;;
        postgis-direct) export_run "$sys" "$round" "PG:host=$PG_HOST port=$PG_PORT user=$PG_USER dbname=postgis_bench" assets ;;
      esac
    done
  done
  # Where the FlatGeobuf pull's time goes: the same without GDAL's R-tree.
  rm -f "$WORK/export.gpkg"; t0=$(now)
  ogr2ogr -lco SPATIAL_INDEX=NO -f GPKG "$WORK/export.gpkg" "/vsicurl_streaming/$SC/collections/assets/download/assets.fgb"
  record streetcell-fgb export-no-rtree 1 "$(secs_since "$t0")" s
  note_load exports
fi

record streetcell-sqlite rss-end 1 "$(rss_mb "$SC_PID")" MB
record streetcell-postgres rss-end 1 "$(rss_mb "$SCPG_PID")" MB
record tipg rss-end 1 "$(tree_rss_mb "$TIPG_PID")" MB
record postgresql pss-end 1 "$(pg_pss_mb)" MB
note_load end

# --- summary -----------------------------------------------------------------------
python3 - "$RESULTS" "$N" "$ROUNDS" "$DURATION" "$CONNS" "$THREADS" "$PGBENCH_CLIENTS" <<'PY' | tee "$WORK/summary.md"
import collections, statistics, sys
path, n, rounds, duration, conns, threads, pg_clients = sys.argv[1:]
v = collections.defaultdict(list)
for line in open(path):
    system, measure, _round, value, unit = line.rstrip("\n").split("\t")
    try:
        v[(system, measure)].append(float(value))
    except ValueError:
        v[(system, measure)].append(None)

def med(system, measure):
    xs = v.get((system, measure))
    if not xs or any(x is None for x in xs):
        return None
    return statistics.median(xs)

def f(x, digits=0):
    if x is None:
        return "n/a"
    return f"{x:,.{digits}f}"

def runs(system, measure, digits=0):
    xs = v.get((system, measure), [])
    return " / ".join("n/a" if x is None else f"{x:,.{digits}f}" for x in xs)

def ratio(a, b, digits=2):
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.{digits}f}×"

def met(ok):
    return "n/a" if ok is None else ("**met**" if ok else "**not met**")

sc, scpg = "streetcell-sqlite", "streetcell-postgres"
print(f"N = {int(n):,} points, {rounds} round(s) of {duration} s runs, wrk {threads} threads / {conns} connections, "
      f"pgbench {pg_clients} clients / {threads} threads. Medians of the rounds; every run in brackets.\n")
print("| measure | Streetcell (SQLite) | Streetcell (PostgreSQL) | PostGIS + tipg | nginx static page | ratio |")
print("|---|---|---|---|---|---|")
def rps_cell(system, m):
    if (system, m) not in v:
        return ""
    return (f"{f(med(system, m))} req/s, p99 {f(med(system, m + '-p99'), 1)} ms, {f(med(system, m + '-bytes'))} B "
            f"({runs(system, m)})")
b_sc, b_scpg, b_tipg, b_ng = (med(s, "bbox") for s in (sc, scpg, "tipg", "nginx"))
print(f"| bbox page, ~100 features | {rps_cell(sc, 'bbox')} | {rps_cell(scpg, 'bbox')} | {rps_cell('tipg', 'bbox')} | "
      f"{rps_cell('nginx', 'bbox')} | Streetcell/nginx {ratio(b_sc, b_ng)}; Streetcell/tipg {ratio(b_sc, b_tipg, 0)} |")
f_sc, f_tipg = med(sc, "filtered"), med("tipg", "filtered")
print(f"| filtered page (CQL2 kind, ~100 features) | {rps_cell(sc, 'filtered')} | | {rps_cell('tipg', 'filtered')} | | "
      f"Streetcell/tipg {ratio(f_sc, f_tipg, 0)} |")
k_sc, k_scpg, k_pg = med(sc, "knn"), med(scpg, "knn"), med("postgis-sql", "knn")
print(f"| k=10 nearest (Streetcell over HTTP; PostGIS as SQL by pgbench) | {rps_cell(sc, 'knn')} | {rps_cell(scpg, 'knn')} | "
      f"{f(k_pg)} tx/s, mean {f(med('postgis-sql', 'knn-mean'), 1)} ms ({runs('postgis-sql', 'knn')}) | | "
      f"Streetcell/PostGIS {ratio(k_sc, k_pg)} |")
t_sc, t_tipg, t_pg = med(sc, "tiles"), med("tipg", "tiles"), med("postgis-sql", "tiles")
print(f"| z14 vector tile (~800 points) | {rps_cell(sc, 'tiles')} | | tipg {rps_cell('tipg', 'tiles')}; ST_AsMVT by pgbench "
      f"{f(t_pg)} tx/s ({runs('postgis-sql', 'tiles')}) | | Streetcell/tipg {ratio(t_sc, t_tipg)}; Streetcell/ST_AsMVT {ratio(t_sc, t_pg)} |")
i_sc, i_scpg, i_pg = med(sc, "import"), med(scpg, "import"), med("postgis", "import")
print(f"| import of {int(n):,} BNG CSV rows | {f(i_sc, 1)} s (CLI) | {f(i_scpg, 1)} s (CLI) | {f(i_pg, 1)} s (\\copy + ST_Transform + indexes) | | "
      f"Streetcell/PostGIS time {ratio(i_sc, i_pg, 1)} (SQLite), {ratio(i_scpg, i_pg, 1)} (PostgreSQL) |")
d_sc, d_scpg, s_tipg = med(sc, "startup-database"), med(scpg, "startup-database"), med("tipg", "startup")
s_sc, s_scpg = med(sc, "startup-snapshot"), med(scpg, "startup-snapshot")
print(f"| start-up to first answer, from the database (round 1) | {f(d_sc, 2)} s | {f(d_scpg, 2)} s | "
      f"tipg {f(s_tipg, 2)} s ({runs('tipg', 'startup', 2)}) | | |")
print(f"| start-up to first answer, from the snapshot (later rounds) | {f(s_sc, 2)} s ({runs(sc, 'startup-snapshot', 2)}) | "
      f"{f(s_scpg, 2)} s ({runs(scpg, 'startup-snapshot', 2)}) | | | |")
e = {s: med(s, "export") for s in ("streetcell-fgb", "streetcell-oapif", "tipg-oapif", "postgis-direct")}
print(f"| ogr2ogr → GeoPackage, all features | FlatGeobuf download {f(e['streetcell-fgb'], 1)} s "
      f"({f(med('streetcell-fgb', 'export-no-rtree'), 1)} s without the R-tree); OAPIF items {f(e['streetcell-oapif'], 1)} s | | "
      f"tipg OAPIF {f(e['tipg-oapif'], 1)} s; PostGIS read directly {f(e['postgis-direct'], 1)} s | | "
      f"FlatGeobuf/PostGIS direct time {ratio(e['streetcell-fgb'], e['postgis-direct'])}; Streetcell OAPIF/tipg OAPIF time {ratio(e['streetcell-oapif'], e['tipg-oapif'])} |")
print(f"| resident memory after start-up / at the end | {f(med(sc, 'rss-startup'))} / {f(med(sc, 'rss-end'))} MB | "
      f"{f(med(scpg, 'rss-startup'))} / {f(med(scpg, 'rss-end'))} MB | tipg {f(med('tipg', 'rss-startup'))} / {f(med('tipg', 'rss-end'))} MB; "
      f"PostgreSQL (PSS, all its processes) {f(med('postgresql', 'pss-startup'))} / {f(med('postgresql', 'pss-end'))} MB | | |")
loads = [(k[1][5:], xs[0]) for k, xs in v.items() if k[0] == "machine"]
print("\nLoad average (1 min) at each phase's end: " + ", ".join(f"{name} {x:.2f}" for name, x in loads) + "\n")

print("| issue-12 target | figure | |")
print("|---|---|---|")
p99 = med(sc, "bbox-p99")
print(f"| bbox page ≥ 0.7× nginx static, p99 ≤ 5 ms | {ratio(b_sc, b_ng)}, p99 {f(p99, 1)} ms | "
      f"{met(None if b_sc is None or b_ng is None or p99 is None else b_sc >= 0.7 * b_ng and p99 <= 5)} |")
print(f"| kNN over HTTP ≥ 5× PostGIS SQL | {ratio(k_sc, k_pg)} | {met(None if k_sc is None or not k_pg else k_sc >= 5 * k_pg)} |")
fg = e["streetcell-fgb"]
print(f"| 1M FlatGeobuf pull into GeoPackage ≤ 10 s | {f(fg, 1)} s | {met(None if fg is None else fg <= 10)} |")
print(f"| import ≤ 15 s (CLI; SQLite / PostgreSQL) | {f(i_sc, 1)} s / {f(i_scpg, 1)} s | "
      f"{met(None if i_sc is None or i_scpg is None else max(i_sc, i_scpg) <= 15)} |")
print(f"| start-up ≤ 3 s (from the snapshot; SQLite / PostgreSQL) | {f(s_sc, 2)} s / {f(s_scpg, 2)} s | "
      f"{met(None if s_sc is None or s_scpg is None else max(s_sc, s_scpg) <= 3)} |")
m_sc = max(x for x in (med(sc, "rss-startup"), med(sc, "rss-end"), med(scpg, "rss-startup"), med(scpg, "rss-end")) if x is not None)
print(f"| memory ≤ 400 MB at 1M (largest of the four readings) | {f(m_sc)} MB | {met(m_sc <= 400)} |")
PY
echo "raw figures: $RESULTS; summary: $WORK/summary.md; load now $(load)"
