-- POST the benchmark invoice with a unique invoice_no per request.
-- args: active_ms, path, body template file, placeholder, run prefix
local before, after, path, prefix

function init(args)
   bench_init(args[1])
   path = args[2]
   local f = assert(io.open(args[3], "rb"))
   local template = f:read("*a")
   f:close()
   local i, j = string.find(template, args[4], 1, true)
   assert(i, "placeholder not in template")
   before, after = string.sub(template, 1, i - 1), string.sub(template, j + 1)
   prefix = args[5]
end

function request()
   generated = generated + 1
   -- <run prefix>-<thread>-<counter>: unique across threads, runs and repeated benchmarks
   local body = before .. prefix .. "-" .. tid .. "-" .. generated .. after
   return wrk.format("POST", path, nil, body)
end
