-- wrk script: every thread is one writer with its own API token — line N of the file given
-- after `--` for thread N — submitting reports as fast as it can, each on a key of its own
-- (task 1–106, one month after another from 2030-01, so no two requests collide and none meets
-- a demo report), and prints one line of JSON with the figures at the end. Run one connection
-- per thread:
--   wrk -t16 -c16 -d20s -s bench/wrk/submit.lua http://127.0.0.1:PORT/graphql -- tokens.txt
-- A response that is not 200, or whose body has "errors", counts as an error.

local threads = {}
local token
local n = 0
errors = 0

local query = "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id version } } }"

function setup(thread)
  table.insert(threads, thread)
  thread:set("writer", #threads)
end

function init(args)
  local i = 0
  for line in io.lines(args[1]) do
    i = i + 1
    if i == writer then
      token = line
    end
  end
  assert(token, "no token for writer " .. tostring(writer))
end

function request()
  local task = n % 106 + 1
  local month = math.floor(n / 106)
  n = n + 1
  local period = string.format("%d-%02d", 2030 + math.floor(month / 12), month % 12 + 1)
  local body = string.format(
    '{"query":"%s","variables":{"i":{"taskNumber":%d,"period":"%s","status":"ONGOING","summary":"bench writer %d, request %d"}}}',
    query, task, period, writer, n)
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }, body)
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
