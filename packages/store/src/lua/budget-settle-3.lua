-- Settles a job's budget reservation once its run is settled: reserved -> spent in the queue's day and
-- month windows. Runs after settle-run-3 (another slot), so it is idempotent on its own: a reservation
-- is released once (HDEL), and a run without one counts as spent only when the caller settled it now.
--
-- Input:
--   KEYS[1] reservations hash of the queue
--   KEYS[2] budget day window hash, KEYS[3] budget month window hash
--   ARGV[1] job id whose reservation to settle ("" for none)
--   ARGV[2] cost in integer micro-USD
--   ARGV[3] budget window TTL (s)
--   ARGV[4] "now": the run was settled by this call (its cost counts, reservation or not);
--           "again": it had been settled for this job before (count only a reservation still held: the
--           earlier call stopped between the two scripts); "foreign": settled for another job (release
--           this job's reservation, count nothing)
--
-- Output:
--   returns 1 when the windows changed, 0 when there was nothing to do.
--
-- Events: none (no BullMQ events are emitted)
local record = ARGV[1] ~= '' and redis.call('HGET', KEYS[1], ARGV[1])
if not record and ARGV[4] ~= 'now' then
  return 0
end
if record then
  local amount = tonumber(string.match(record, '^(%d+)|'))
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HINCRBY', KEYS[2], 'reserved', -amount)
  redis.call('HINCRBY', KEYS[3], 'reserved', -amount)
end
if ARGV[4] == 'foreign' then
  return 1
end
local cost = tonumber(ARGV[2])
redis.call('HINCRBY', KEYS[2], 'spent', cost)
redis.call('HINCRBY', KEYS[3], 'spent', cost)
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[3])
return 1
