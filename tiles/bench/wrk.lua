-- wrk load script for the tile server: each request takes the next path of
-- a shuffled list (genpaths), gzip accepted as a browser would.
--
--   go run ./tiles/bench/genpaths -n 20000 > /tmp/tiles-paths.txt
--   PATHS=/tmp/tiles-paths.txt wrk -t2 -c64 -d30s -s tiles/bench/wrk.lua http://127.0.0.1:8080
--
-- done() prints the latency percentiles, the throughput and the share of
-- each status class.
local paths = {}
local counter = 0
local statuses = {}

local function load()
  local file = os.getenv("PATHS") or "/tmp/tiles-paths.txt"
  for line in io.lines(file) do
    paths[#paths + 1] = line
  end
  if #paths < 10000 then
    error("need at least 10,000 tile paths, got " .. #paths)
  end
end

function setup(thread)
  thread:set("offset", math.random(1, 10000))
end

function init(args)
  load()
  counter = offset or 0
end

function request()
  counter = counter + 1
  local p = paths[(counter % #paths) + 1]
  return wrk.format("GET", p, { ["Accept-Encoding"] = "gzip" })
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 400 then
    print("unexpected status " .. status)
  end
end

function done(summary, latency, requests)
  io.write(string.format("tiles/s: %.0f\n", summary.requests / (summary.duration / 1e6)))
  for _, p in pairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("latency p%g: %.2f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("errors: connect %d, read %d, write %d, status %d, timeout %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
