-- wrk POST script for bench/run.sh.
-- BENCH_BODY: path of the JSON body; BENCH_HEADERS: "Name: value" pairs separated by "|";
-- BENCH_PREFIX: prefix for the metric names printed by done().
local body_file = assert(os.getenv("BENCH_BODY"), "BENCH_BODY not set")
local f = assert(io.open(body_file, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
for pair in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^|]+") do
  local name, value = string.match(pair, "^%s*([^:]+):%s*(.-)%s*$")
  if name then wrk.headers[name] = value end
end

function done(summary, latency, requests)
  local prefix = os.getenv("BENCH_PREFIX") or ""
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  local seconds = summary.duration / 1e6
  io.write(string.format("%srequests\t%d\n", prefix, summary.requests))
  io.write(string.format("%serrors\t%d\n", prefix, errors))
  io.write(string.format("%srps\t%.1f\n", prefix, (summary.requests - errors) / seconds))
  io.write(string.format("%sp50_ms\t%.3f\n", prefix, latency:percentile(50) / 1000))
  io.write(string.format("%sp99_ms\t%.3f\n", prefix, latency:percentile(99) / 1000))
end
