-- wrk script for bench/enroll.py: every request enrolls a different (resident, session)
-- pair, so no request meets "already enrolled". Residents are taken in turn; after all
-- of them, the next session. Settings come from the environment:
--   ENROLL_TARGET   "ocod" (POST /api/v1/sessions/{id}/enrollments, no body) or
--                   "pocketbase" (POST /api/collections/enrollments/records {user, session})
--   ENROLL_USERS    file of "token<TAB>user id" lines
--   ENROLL_SESSIONS file of session ids, one per line
--   ENROLL_THREADS  wrk's -t
local target = os.getenv("ENROLL_TARGET")
local users, sessions = {}, {}
for line in io.lines(os.getenv("ENROLL_USERS")) do
  local token, id = line:match("^([^\t]+)\t(.+)$")
  users[#users + 1] = { token = token, id = id }
end
for line in io.lines(os.getenv("ENROLL_SESSIONS")) do
  sessions[#sessions + 1] = line
end

local next_thread = 0
function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

local sent = 0
local threads = tonumber(os.getenv("ENROLL_THREADS") or "2")

function request()
  local n = sent * threads + thread_index
  sent = sent + 1
  local user = users[(n % #users) + 1]
  -- Past the last session the pair repeats: the answer is a 409 and the bench stops
  -- with wrk's "Non-2xx" count, so it never measures conflicts unknowingly.
  local session = sessions[(math.floor(n / #users) % #sessions) + 1]
  local headers = { ["Authorization"] = "Bearer " .. user.token }
  if target == "pocketbase" then
    headers["Content-Type"] = "application/json"
    local body = string.format('{"user":"%s","session":"%s","status":"confirmed"}', user.id, session)
    return wrk.format("POST", "/api/collections/enrollments/records", headers, body)
  end
  return wrk.format("POST", "/api/v1/sessions/" .. session .. "/enrollments", headers, "")
end
