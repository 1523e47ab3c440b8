-- wrk script: GET an OGC items page for a random ~100-feature bbox
-- inside the box bench/gen_assets.py fills (0.85 x 0.40 degrees, 1M assets).
-- Environment (all optional, for bench/sidebyside.sh):
--   ITEMS_PATH  the items endpoint (default /collections/assets/items)
--   BBOX_W, BBOX_H  the box's size in degrees (default 0.0085 x 0.004)
--   QUERY       appended to the query string, e.g. "&filter=kind%3D'bus_shelter'"
local min_lon, min_lat, w, h = -2.75, 53.30, 0.85, 0.40
local bw = tonumber(os.getenv("BBOX_W") or "") or 0.0085
local bh = tonumber(os.getenv("BBOX_H") or "") or 0.004
local items = os.getenv("ITEMS_PATH") or "/collections/assets/items"
local query = os.getenv("QUERY") or ""

-- Each wrk thread gets its own random sequence.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end

function init(args)
  math.randomseed(os.time() * 100 + (seed or 0))
end

function request()
  local x = min_lon + math.random() * (w - bw)
  local y = min_lat + math.random() * (h - bh)
  local path = string.format(
    "%s?bbox=%.6f,%.6f,%.6f,%.6f&limit=100%s", items, x, y, x + bw, y + bh, query)
  return wrk.format("GET", path)
end
