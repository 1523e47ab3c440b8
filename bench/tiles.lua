-- wrk script: GET a random vector tile at zoom TILE_Z (default 14) among the
-- tiles lying wholly inside the box bench/gen_assets.py fills (at z14 about
-- 800 of the 1M points each).
-- Environment: TILE_PATH with {z}, {x} and {y} in the server's order
-- (default Streetcell's /collections/assets/tiles/WebMercatorQuad/{z}/{y}/{x}).
local min_lon, min_lat, max_lon, max_lat = -2.75, 53.30, -1.90, 53.70
local z = tonumber(os.getenv("TILE_Z") or "") or 14
local template = os.getenv("TILE_PATH") or "/collections/assets/tiles/WebMercatorQuad/{z}/{y}/{x}"

local function tx(lon) return math.floor((lon + 180) / 360 * 2 ^ z) end
local function ty(lat)
  local r = math.rad(lat)
  return math.floor((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * 2 ^ z)
end
local x0, x1 = tx(min_lon) + 1, tx(max_lon) - 1
local y0, y1 = ty(max_lat) + 1, ty(min_lat) - 1

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end

function init(args)
  math.randomseed(os.time() * 100 + (seed or 0))
end

function request()
  local path = template:gsub("{z}", tostring(z))
    :gsub("{x}", tostring(math.random(x0, x1)))
    :gsub("{y}", tostring(math.random(y0, y1)))
  return wrk.format("GET", path)
end
