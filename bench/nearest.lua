-- wrk script: GET /v1/assets/nearest (k = 10) at a random point of the box
-- bench/gen_assets.py fills.
local min_lon, min_lat, w, h = -2.75, 53.30, 0.85, 0.40

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
  local path = string.format("/v1/assets/nearest?lon=%.6f&lat=%.6f&k=10",
    min_lon + math.random() * w, min_lat + math.random() * h)
  return wrk.format("GET", path)
end
