-- A 429 from Runflow: multiplicative decrease of the fleet's rate, once per episode (429s within the
-- guard window of the episode's first one are the tail of the same overshoot: requests reserved or in
-- flight at the old rate), and a full stop until Retry-After when it was given.
--
-- Input:
--   KEYS[1] governor hash of the API key
--   ARGV[1] now (ms)
--   ARGV[2] Retry-After in ms (0 when absent)
--   ARGV[3] decrease factor (e.g. 0.5)
--   ARGV[4] floor of the factor (e.g. 0.05)
--   ARGV[5] guard window (ms)
--   ARGV[6] recovery per second (same as governor-acquire.lua)
--   ARGV[7] ceiling relaxation per minute (same as governor-acquire.lua)
--   ARGV[8] ceiling margin (e.g. 0.9): the new ceiling is this times the factor that drew the 429
--
-- Output:
--   returns the new factor ×1000.
--
-- Events: none (no BullMQ events are emitted)
local key = KEYS[1]
local now = tonumber(ARGV[1])
local retry_after = tonumber(ARGV[2])
local vals = redis.call('HMGET', key, 'factor', 'factor_at', 'penalized_at', 'blocked_until', 'ceiling', 'ceiling_at')
local factor = tonumber(vals[1] or '1')
local ceiling = tonumber(vals[5] or '1')
if factor < 1 then
  ceiling = math.min(1, ceiling + tonumber(ARGV[7]) * (now - tonumber(vals[6] or tostring(now))) / 60000)
  factor = math.min(ceiling, factor + tonumber(ARGV[6]) * (now - tonumber(vals[2] or tostring(now))) / 1000)
end
local last = tonumber(vals[3] or '0')
if now - last >= tonumber(ARGV[5]) then
  -- A new episode. (penalized_at marks the episode's start, so its tail cannot extend it.)
  local floor = tonumber(ARGV[4])
  ceiling = math.max(floor, factor * tonumber(ARGV[8]))
  factor = math.max(floor, factor * tonumber(ARGV[3]))
  redis.call('HSET', key, 'factor', factor, 'factor_at', now, 'penalized_at', now, 'ceiling', ceiling, 'ceiling_at', now)
  redis.call('HINCRBY', key, 'penalties', 1)
end
if retry_after > 0 then
  local blocked = math.max(tonumber(vals[4] or '0'), now + retry_after)
  redis.call('HSET', key, 'blocked_until', blocked)
end
return math.floor(factor * 1000)
