-- wrk script: refresh-token grants. Refresh tokens rotate and a reused one revokes its family, so every
-- request spends a token and its response brings the next: $BENCH_TOKENS holds a token per connection,
-- and a connection sends its next request only after its previous answer (wrk does not pipeline). wrk
-- calls request() once before the run to check the script: that call takes a spare token, never sent.
local tokens = {}
local path = os.getenv("BENCH_PATH") or "/api/v1/auth/token"

function init(args)
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    tokens[#tokens + 1] = line
  end
end

local function encode(text)
  return (string.gsub(text, "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function request()
  local token = table.remove(tokens, 1) or "spent"
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
  return wrk.format("POST", path, headers, "grant_type=refresh_token&refresh_token=" .. encode(token))
end

function response(status, headers, body)
  local token = string.match(body, '"refresh_token"%s*:%s*"([^"]+)"')
  if token then
    tokens[#tokens + 1] = token
  end
end
