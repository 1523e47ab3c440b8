-- wrk script: GET /collections/assets/items for a random ~100-feature bbox
-- inside the box bench/gen_assets.py fills (0.85 x 0.40 degrees, 1M assets).
local min_lon, min_lat, w, h = -2.75, 53.30, 0.85, 0.40
local bw, bh = 0.0085, 0.004

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
    "/collections/assets/items?bbox=%.6f,%.6f,%.6f,%.6f&limit=100", x, y, x + bw, y + bh)
  return wrk.format("GET", path)
end
