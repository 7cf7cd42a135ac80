-- Reserves a job's estimated cost against its queue's budget windows before any money moves.
-- Idempotent per job: a job that comes back (rate-limited, crashed, retried) keeps its one reservation.
--
-- Input:
--   KEYS[1] reservations hash of the queue (jobId -> "amount|day|month")
--   KEYS[2] day window hash {reserved, spent}
--   KEYS[3] month window hash {reserved, spent}
--   ARGV[1] job id
--   ARGV[2] amount (µUSD)
--   ARGV[3] daily cap (µUSD, -1 = none)
--   ARGV[4] monthly cap (µUSD, -1 = none)
--   ARGV[5] reservation record "amount|day|month"
--   ARGV[6] TTL of the window hashes (s)
--
-- Output:
--   returns {1, 0} reserved now, {1, 1} was already reserved, {0, 1} daily cap reached, {0, 2} monthly cap reached
--
-- Events: none (no BullMQ events are emitted)
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  return {1, 1}
end
local amount = tonumber(ARGV[2])
local function used(k)
  local v = redis.call('HMGET', k, 'reserved', 'spent')
  return tonumber(v[1] or '0') + tonumber(v[2] or '0')
end
local day_cap = tonumber(ARGV[3])
if day_cap >= 0 and used(KEYS[2]) + amount > day_cap then
  return {0, 1}
end
local month_cap = tonumber(ARGV[4])
if month_cap >= 0 and used(KEYS[3]) + amount > month_cap then
  return {0, 2}
end
redis.call('HINCRBY', KEYS[2], 'reserved', amount)
redis.call('HINCRBY', KEYS[3], 'reserved', amount)
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('EXPIRE', KEYS[3], ARGV[6])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[5])
return {1, 0}
