-- Shared by every benchmark script (run.py puts it in front of post.lua or get.lua).
--
-- Drain instead of cut-off: wrk drops the requests still in flight when -d runs out, but the
-- server may still commit them, so "rows stored == 2xx answers" could never hold. Each thread
-- therefore sends for ACTIVE_MS only (delay() parks a connection once that time is up) and
-- wrk's -d leaves a few idle seconds for the last answers to come back. The rate is computed
-- over the active window (first send to last answer), not over wrk's -d.
--
-- Per-request cost stays small: one delay() call and one clock read. No response() function,
-- because defining one makes wrk hand every response's headers and body to Lua.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local PARK_MS = 3600 * 1000
local ts = ffi.new("bench_timespec")

local function now_us()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
   return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

-- main state: every thread, to collect their counters in done()
local threads = {}

function setup(thread)
   thread:set("tid", #threads + 1)
   table.insert(threads, thread)
end

-- thread state (set by bench_init, which each script's init() calls first)
first_us, last_us, cutoff_us, active_us, generated, parked = 0, 0, 0, 0, 0, 0

function bench_init(active_ms)
   active_us = tonumber(active_ms) * 1000
end

function delay()
   local now = now_us()
   if first_us == 0 then
      first_us = now
      cutoff_us = now + active_us
   end
   -- every call after the first per connection follows a completed response
   last_us = now
   if now >= cutoff_us then
      parked = parked + 1
      return PARK_MS
   end
   return 0
end

function done(summary, latency, requests)
   local first, last, gen, park = math.huge, 0, 0, 0
   for _, t in ipairs(threads) do
      local f, l = t:get("first_us"), t:get("last_us")
      if f and f > 0 and f < first then first = f end
      if l and l > last then last = l end
      gen = gen + (t:get("generated") or 0)
      park = park + (t:get("parked") or 0)
   end
   if first == math.huge then first = last end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"active_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d},' ..
      '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,' ..
      '"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d},"generated":%d,"parked":%d}\n',
      summary.requests, summary.duration, last - first, summary.bytes,
      e.connect, e.read, e.write, e.timeout, e.status,
      latency.min, latency.mean, latency.stdev, latency.max,
      latency:percentile(50), latency:percentile(75), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9), gen, park))
end
