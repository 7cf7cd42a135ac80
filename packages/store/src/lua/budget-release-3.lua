-- Releases a job's reservation when it ends without a run (rejected, deadline before submit, ...).
--
-- Input:
--   KEYS[1] reservations hash, KEYS[2] day window hash, KEYS[3] month window hash
--   ARGV[1] job id
--
-- Output:
--   returns the released amount (µUSD), 0 when there was no reservation.
--
-- Events: none (no BullMQ events are emitted)
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record then return 0 end
local amount = tonumber(string.match(record, '^(%d+)|'))
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HINCRBY', KEYS[2], 'reserved', -amount)
redis.call('HINCRBY', KEYS[3], 'reserved', -amount)
return amount
