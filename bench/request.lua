-- wrk script: random path from $BENCH_PATHS, method/auth/body from the environment.
-- In $BENCH_BODY, "{n}" becomes a value unique to each request (thread, counter, random).
local paths = {}
local method = os.getenv("BENCH_METHOD") or "GET"
local auth = os.getenv("BENCH_AUTH")
local content_type = os.getenv("BENCH_CONTENT_TYPE")
local body = os.getenv("BENCH_BODY")
local counter = 0
local salt = 0

function init(args)
  for line in io.lines(os.getenv("BENCH_PATHS")) do
    paths[#paths + 1] = line
  end
  -- The wall clock's second tells runs apart (each lasts longer than a second): os.clock() at init is this
  -- process's few milliseconds of CPU and LuaJIT's unseeded math.random gives every process the same draw, so a
  -- salt of those two alone repeated across runs, and a later run's creates failed on an earlier run's emails.
  salt = os.time() .. "." .. math.floor(os.clock() * 1000000)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function request()
  counter = counter + 1
  local headers = {}
  if auth then headers["Authorization"] = auth end
  if content_type then headers["Content-Type"] = content_type end
  local payload = nil
  if body then
    payload = string.gsub(body, "{n}", salt .. "-" .. counter)
  end
  return wrk.format(method, paths[math.random(#paths)], headers, payload)
end
