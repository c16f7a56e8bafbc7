-- wrk script: POSTs GraphQL requests and prints one line of JSON with the figures at the end.
--
-- Reads (bodies mode): the request bodies in the file given after `--` (one JSON document a
-- line, as bench/measure.py writes them), cycled through (the pages of a paged operation, the
-- agencies of Q2, the task numbers of Q3):
--   wrk -t2 -c16 -d10s -s bench/wrk/graphql.lua http://127.0.0.1:PORT/graphql -- bodies.jsonl
--
-- Writes (slots mode): a template file (bench/measure.py --slots writes it: the body on its first
-- line, then header lines "Name: value"), the slots file (bench/slots.py) and wrk's thread count:
--   wrk -t2 -c16 ... -- template.txt slots.txt 2
-- Every request takes the next slot: thread t (0-based) of T sends slots t, t+T, t+2T, ... so
-- no two requests of a run share one. Slot s is pair s mod P (an agency's token, the agency, one
-- of its tasks) and period floor(s / P) of the slots file: every request is a valid, different
-- report (no two live reports for the same reporter, task, period and kind). The placeholders
-- __TOKEN__, __AGENCY_ID__, __TASK_ID__, __TASK_NUMBER__, __PERIOD__, __PERIOD_STARTS_AT__,
-- __PERIOD_ENDS_AT__ and __NOW__ are replaced in the body and headers. bench/run.sh deletes what
-- a run wrote before the next one (bench/lib.sh, db_restore), so every run starts at slot 0.
--
-- A response that is not 200, or whose body has "errors" (a GraphQL error in a 200 answer),
-- counts as an error.

local bodies = {}
local next_body = 0
local threads = {}
local template, header_templates = nil, {}
local pairs_, periods = {}, {}
local nthreads = 1
errors = 0
sent = 0
first_error = nil

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads - 1)
end

local function split(line)
  local fields = {}
  for field in string.gmatch(line, "%S+") do
    table.insert(fields, field)
  end
  return fields
end

function init(args)
  if args[2] then
    local first = true
    for line in io.lines(args[1]) do
      if first then
        template = line
        first = false
      elseif #line > 0 then
        local name, value = string.match(line, "^([^:]+):%s*(.*)$")
        header_templates[name] = value
      end
    end
    for line in io.lines(args[2]) do
      local f = split(line)
      if f[1] == "P" then
        table.insert(periods, { period = f[2], starts = f[3], ends = f[4] })
      elseif f[1] == "R" then
        table.insert(pairs_, { token = f[2], agency = f[3], task = f[4], number = f[5] })
      end
    end
    nthreads = tonumber(args[3]) or 1
    assert(#pairs_ > 0 and #periods > 0, "the slots file has no pairs or no periods")
  else
    for line in io.lines(args[1]) do
      if #line > 0 then
        table.insert(bodies, line)
      end
    end
    -- Threads start at different bodies.
    next_body = (tid or 0) % #bodies
  end
end

local function fill(text, values)
  return (string.gsub(text, "__([A-Z_]+)__", values))
end

local function slot_request()
  local slot = (sent - 1) * nthreads + (tid or 0)
  local pair = pairs_[slot % #pairs_ + 1]
  local period = periods[math.floor(slot / #pairs_) % #periods + 1]
  local values = {
    TOKEN = pair.token,
    AGENCY_ID = pair.agency,
    TASK_ID = pair.task,
    TASK_NUMBER = pair.number,
    PERIOD = period.period,
    PERIOD_STARTS_AT = period.starts,
    PERIOD_ENDS_AT = period.ends,
    NOW = os.date("!%Y-%m-%dT%H:%M:%S") .. ".000000+00:00",
  }
  local headers = { ["Content-Type"] = "application/json" }
  for name, value in pairs(header_templates) do
    headers[name] = fill(value, values)
  end
  return wrk.format("POST", nil, headers, fill(template, values))
end

function request()
  sent = sent + 1
  if template then
    return slot_request()
  end
  next_body = next_body % #bodies + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, bodies[next_body])
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    errors = errors + 1
    if not first_error then
      -- Printable ASCII without quotes or backslashes, to sit in a JSON string.
      local from = string.find(body, '"errors"', 1, true) or 1
      first_error = status .. " " .. string.gsub(string.sub(body, from, from + 299), '[^%w%s%p]', '?'):gsub('["\\%c]', ' ')
    end
  end
end

function done(summary, latency, requests)
  local failed, sent_all, first = 0, 0, nil
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("errors")
    sent_all = sent_all + thread:get("sent")
    first = first or thread:get("first_error")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"sent":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.2f,"p90_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,"errors":%d,"socket_errors":%d,"first_error":%s}\n',
    summary.requests, sent_all, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, failed, e.connect + e.read + e.write + e.status + e.timeout,
    first and ('"' .. first .. '"') or "null"))
end
