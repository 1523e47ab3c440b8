#!/usr/bin/env bash
# Bulk downloads of a release build holding N synthetic points (default 1M):
# each format fetched by curl, then the FlatGeobuf download pulled into a
# GeoPackage by ogr2ogr straight over HTTP, with the server's resident
# memory sampled every 0.1 s during the pull.
#
#   bench/downloads.sh
#   N=200000 bench/downloads.sh
#
# Needs ogr2ogr (apt-get install gdal-bin), curl, python3 and sqlite3's
# Python module. Works in $WORK (default /tmp/streetcell-bench-dl); the
# fixture is made once: the schema by the CLI, the rows of
# bench/gen_assets.py by bench/fill_sqlite.py (the CLI import of 1M rows
# takes minutes; the server loads the rows through its ordinary start-up).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
WORK=${WORK:-/tmp/streetcell-bench-dl}
PORT=${PORT:-18090}
BIN=${BIN:-target/release/streetcell}
BASE=http://127.0.0.1:$PORT
DBFILE=$WORK/dl-$N.db
DB=sqlite://$DBFILE
mkdir -p "$WORK"
command -v ogr2ogr >/dev/null || { echo "needs ogr2ogr: apt-get install gdal-bin" >&2; exit 1; }
[ -x "$BIN" ] || cargo build --release --quiet

if [ ! -s "$DBFILE" ]; then
  CSV=$WORK/assets-$N.csv
  [ -s "$CSV" ] || python3 bench/gen_assets.py "$N" > "$CSV"
  "$BIN" authority add synthetic --name "Synthetic Borough" --database-url "$DB" >/dev/null
  python3 bench/fill_sqlite.py "$CSV" "$DBFILE" synthetic
fi

STREETCELL_RATE_LIMIT=0 "$BIN" serve --public-read --listen "127.0.0.1:$PORT" \
  --database-url "$DB" >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
until curl -sf "$BASE/readyz" >/dev/null; do sleep 0.1; done
secs_since() { echo "scale=2; ($(date +%s%N) - $1) / 1000000000" | bc; }
rss() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' /proc/$SERVER/status; }
echo "assets: $(curl -s "$BASE/healthz")"
echo "server resident memory after start-up: $(rss) MB"

for f in fgb geojsons csv; do
  t0=$(date +%s%N)
  bytes=$(curl -s -o /dev/null -w '%{size_download}' "$BASE/collections/assets/download/assets.$f")
  echo "curl assets.$f: $bytes bytes in $(secs_since "$t0") s"
done
echo "server resident memory after the three downloads: $(rss) MB"

# The pull: ogr2ogr reads the FlatGeobuf as it arrives and writes a
# GeoPackage; memory sampled meanwhile.
rm -f "$WORK/pull.gpkg"
(while kill -0 $SERVER 2>/dev/null; do rss; echo; sleep 0.1; done) >"$WORK/rss.txt" &
SAMPLER=$!
t0=$(date +%s%N)
ogr2ogr -f GPKG "$WORK/pull.gpkg" "/vsicurl_streaming/$BASE/collections/assets/download/assets.fgb"
t=$(secs_since "$t0")
kill $SAMPLER
echo "ogr2ogr FlatGeobuf download -> GeoPackage: $t s"
ogrinfo -so -al "$WORK/pull.gpkg" | grep -E "Feature Count"
# The same without the GeoPackage's R-tree, which GDAL builds after the
# last row (most of the time above on this machine).
rm -f "$WORK/pull.gpkg"
t0=$(date +%s%N)
ogr2ogr -lco SPATIAL_INDEX=NO -f GPKG "$WORK/pull.gpkg" "/vsicurl_streaming/$BASE/collections/assets/download/assets.fgb"
echo "ogr2ogr FlatGeobuf download -> GeoPackage without spatial index: $(secs_since "$t0") s"
sort -n "$WORK/rss.txt" | awk 'NF {a[n++] = $1} END {printf "server resident memory during the pull: min %d MB, max %d MB (%d samples)\n", a[0], a[n-1], n}'
