-- wrk script: POSTs the GraphQL request bodies in the file given after `--` (one JSON document a
-- line, as bench/measure.py writes them), cycling through them (the pages of a paged
-- operation), and prints one line of JSON with the figures at the end:
--   wrk -t2 -c16 -d10s -s bench/wrk/graphql.lua http://127.0.0.1:PORT/graphql -- bodies.jsonl
-- A response that is not 200, or whose body has "errors", counts as an error.

local bodies = {}
local next_body = 0
local threads = {}
errors = 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("offset", #threads)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      table.insert(bodies, line)
    end
  end
  -- Threads start at different pages.
  next_body = (offset or 0) % #bodies
end

function request()
  next_body = next_body % #bodies + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, bodies[next_body])
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("errors")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.2f,"p90_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,"errors":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, failed, e.connect + e.read + e.write + e.status + e.timeout))
end
