-- GET /api/invoice/{id} for random ids in [low, high] (the invoices the POST runs stored).
-- args: active_ms, low, high, seed
local low, high

function init(args)
   bench_init(args[1])
   low, high = tonumber(args[2]), tonumber(args[3])
   math.randomseed(tonumber(args[4]) + tid)
end

function request()
   generated = generated + 1
   return wrk.format("GET", "/api/invoice/" .. math.random(low, high))
end
