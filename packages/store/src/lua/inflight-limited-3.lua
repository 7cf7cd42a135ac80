-- A create for a model was answered 429: a concurrency cap of that model, or the account's rate limit?
-- A cap follows the runs in flight: the 429 came with `others` accepted runs of the model in flight,
-- and no create of the model succeeded with that many in flight lately, or `others` is at the learned
-- cap or one below it. Then the cap is learned (or lowered) to `others` and the fleet's rate is left
-- alone. A rate limit follows the request rate: a 429 on a GET, or on another model at the same time
-- (one that was the rate limit), or one that came with fewer runs in flight than creates recently
-- succeeded with, more than one under the learned cap — the caller slows the fleet
-- (governor-penalize-1.lua). Unless the 429s pick the model: within the answer window, other requests
-- (another model's creates, GETs) got through and none of them met a 429. A rate limit refuses requests
-- whatever they are; a cap refuses one model's creates. That holds when our count of runs in flight is off
-- (runs Runflow finished whose callbacks are late still count as ours), which makes a cap's 429s come
-- with fewer in flight than creates succeeded with.
-- The 429'd job made no run: its slot is given back (it takes one again when admitted).
--
-- Input:
--   KEYS[1] in-flight hash of the model: member -> since (ms)
--   KEYS[2] learned caps hash of the Runflow account. Per model: cap:<m> (runs), cap_at:<m> (last set,
--     confirmed or probed, ms), since:<m> (first learned, ms), prev:<m> (the cap before the last change,
--     '' = none), probe_wait:<m> (ms), probing:<m> (1 while a probe is out), ok:<m> / ok_at:<m> (most
--     runs in flight a create succeeded with, and when), rejects:<m> (429s explained by the cap).
--     answered_at:<m> (last create Runflow accepted, ms; '*' = a GET answered, written by InflightCaps.answered),
--     r429_at:<m> (last 429 of any kind, ms; '*' = a GET), ref_n:<m> (its 429s lately, decaying over the answer window).
--     Account-wide: rate_at / rate_model (last 429 that was the rate limit, and its model or '*').
--   KEYS[3] accepted-runs hash of the model (in-flight members whose create was answered: what `others` counts)
--   ARGV[1] member, ARGV[2] model ('*' for a GET), ARGV[3] now (ms), ARGV[4] evidence window (ms),
--   ARGV[5] window of the successful-create record (ms), ARGV[6] first probe wait (ms), ARGV[7] longest probe wait (ms),
--   ARGV[8] answer window (ms): how far back other requests' answers and 429s tell a 429 that picks one model
--
-- Output:
--   returns {1 = a cap (leave the rate alone) | 0 = the rate limit, runs in flight besides this one, learned cap (0 = none)}
--
-- Events: none (no BullMQ events are emitted)
local member = ARGV[1]
local model = ARGV[2]
local now = tonumber(ARGV[3])
local evidence = tonumber(ARGV[4])
local key = KEYS[2]

local function rate(others, cap)
  redis.call('HSET', key, 'rate_at', now, 'rate_model', model)
  return {0, others, cap or 0}
end

local window = tonumber(ARGV[8])
-- This kind's 429s lately, a count decaying over the answer window (how many in a row pick it).
local seen = redis.call('HMGET', key, 'ref_n:' .. model, 'r429_at:' .. model)
local refused = tonumber(seen[1] or '0') * math.exp(-math.max(0, now - tonumber(seen[2] or tostring(now))) / window) + 1
redis.call('HSET', key, 'r429_at:' .. model, now, 'ref_n:' .. model, refused)
if model == '*' then return rate(0, nil) end

redis.call('HDEL', KEYS[1], member)
redis.call('HDEL', KEYS[3], member)
local others = redis.call('HLEN', KEYS[3])
local v = redis.call('HMGET', key, 'rate_at', 'rate_model', 'cap:' .. model, 'ok:' .. model, 'ok_at:' .. model,
  'probing:' .. model, 'probe_wait:' .. model)
local cap = tonumber(v[3] or '')

-- Another model (or a GET) met the rate limit just now: this is the rate limit too.
if now - tonumber(v[1] or '0') < evidence and v[2] ~= model then return rate(others, cap) end
if others < 1 then return rate(others, cap) end

local okmax = -1
if now - tonumber(v[5] or '0') <= tonumber(ARGV[5]) then okmax = tonumber(v[4] or '-1') end
local probing = v[6] == '1'
local wait = tonumber(v[7] or ARGV[6])
if probing then wait = math.min(tonumber(ARGV[7]), wait * 2) end

-- The cap learned (or lowered) to the runs in flight this 429 came with.
local function learn()
  redis.call('HSET', key, 'cap:' .. model, others, 'cap_at:' .. model, now, 'prev:' .. model, v[3] or '',
    'probing:' .. model, 0, 'probe_wait:' .. model, wait)
  redis.call('HSETNX', key, 'since:' .. model, now)
  redis.call('HINCRBY', key, 'rejects:' .. model, 1)
  return {1, others, others}
end

if okmax < others then return learn() end
if cap and others >= cap - 1 then
  -- At the learned cap, or one below it (a create got through with as many lately: the cap moves,
  -- Runflow's count and ours differ by a run finishing — ours still counts a run whose callback is
  -- late): the cap still. Seen with one model and nothing else answered in the window: a cap learned
  -- one high (a create got through with ours one ahead of Runflow's), then 429s at one below it read as
  -- the rate limit and halved the fleet's rate. Three or so in a row one below lower the cap to them.
  if others < cap and refused >= 2.5 then return learn() end
  if probing then
    cap = math.max(1, cap - 1)
    redis.call('HSET', key, 'cap:' .. model, cap, 'probing:' .. model, 0, 'probe_wait:' .. model, wait)
  end
  redis.call('HSET', key, 'cap_at:' .. model, now)
  redis.call('HINCRBY', key, 'rejects:' .. model, 1)
  return {1, others, cap}
end
-- Do the 429s pick this model? (Runs only on a 429 that is otherwise the rate limit: the hash holds a
-- few fields per model.)
local flat = redis.call('HGETALL', key)
local others_answered, others_refused = false, false
for i = 1, #flat, 2 do
  local field, at = flat[i], tonumber(flat[i + 1])
  if at and now - at < window then
    if field:sub(1, 12) == 'answered_at:' and field:sub(13) ~= model then others_answered = true end
    if field:sub(1, 8) == 'r429_at:' and field:sub(9) ~= model then others_refused = true end
  end
end
if others_answered and not others_refused then
  -- Runflow's count is at its cap and ours is at least Runflow's (a run leaves ours only once we know
  -- it ended), so `others` is a cap that holds: learn it (or lower the learned one to it) once three or
  -- so 429s in a row picked the model. Under the rate limit the first 429s of an episode may all fall
  -- on one model by chance (1 in 8 for three, with two models): they park unpenalized, teaching nothing.
  if refused >= 2.5 then return learn() end
  redis.call('HINCRBY', key, 'rejects:' .. model, 1)
  return {1, others, cap or 0}
end
return rate(others, cap)
