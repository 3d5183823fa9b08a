-- GET /health: what a request costs the server with no application work (the stack alone).
-- args: active_ms

function init(args)
   bench_init(args[1])
end

function request()
   generated = generated + 1
   return wrk.format("GET", "/health")
end
