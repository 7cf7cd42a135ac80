-- A 429 from Runflow: multiplicative decrease of the fleet's rate (at most once per guard window, so
-- a burst of 429s from one moment counts once), and a full stop until Retry-After when it was given.
-- KEYS[1] governor hash of the API key
-- ARGV[1] now (ms)
-- ARGV[2] Retry-After in ms (0 when absent)
-- ARGV[3] decrease factor (e.g. 0.5)
-- ARGV[4] floor of the factor (e.g. 0.05)
-- ARGV[5] guard window (ms)
-- ARGV[6] recovery per second (same as governor-acquire.lua)
-- Returns the new factor ×1000.
local key = KEYS[1]
local now = tonumber(ARGV[1])
local retry_after = tonumber(ARGV[2])
local vals = redis.call('HMGET', key, 'factor', 'factor_at', 'penalized_at', 'blocked_until')
local factor = tonumber(vals[1] or '1')
local since = tonumber(vals[2] or tostring(now))
if factor < 1 then
  factor = math.min(1, factor + tonumber(ARGV[6]) * (now - since) / 1000)
end
local last = tonumber(vals[3] or '0')
if now - last >= tonumber(ARGV[5]) then
  factor = math.max(tonumber(ARGV[4]), factor * tonumber(ARGV[3]))
  redis.call('HSET', key, 'factor', factor, 'factor_at', now, 'penalized_at', now)
  redis.call('HINCRBY', key, 'penalties', 1)
end
if retry_after > 0 then
  local blocked = math.max(tonumber(vals[4] or '0'), now + retry_after)
  redis.call('HSET', key, 'blocked_until', blocked)
end
return math.floor(factor * 1000)
