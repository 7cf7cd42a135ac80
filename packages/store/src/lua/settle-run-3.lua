-- Settles one run's spend exactly once, account-wide: the run's spend record (which is the settle-once
-- marker), the ledger increments of its row and, for a run booked from the price table, its entry in
-- the reconciler's work list, in one atomic step over the `{spend}` slot. Whatever queue the job is in,
-- a run id can be settled only once.
--
-- Input:
--   KEYS[1] per-day hash of spend records (field: run id)
--   KEYS[2] ledger hash of the run's queue
--   KEYS[3] unconfirmed runs sorted set (run id -> settled at, ms)
--   ARGV[1] run id
--   ARGV[2] the encoded spend record
--   ARGV[3] unix time (s) at which the per-day hash expires (EXPIREAT)
--   ARGV[4] ledger row field prefix "day|model|costCenter|caller" (parts encoded)
--   ARGV[5] outcome field: "completed", "failed" or "wasteRuns"
--   ARGV[6] delivered images
--   ARGV[7] cost booked now, integer micro-USD (Runflow's when confirmed, else the estimate)
--   ARGV[8] path counter to add 1 to ("by_callback", "by_poll", ...; "" for none)
--   ARGV[9] state: "estimated", "confirmed" or "table"
--   ARGV[10] settled at (ms), the unconfirmed set's score
--
-- Output:
--   returns 1 when settled now, else the record already stored for this run id (a string).
--
-- Events: none (no BullMQ events are emitted)
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return redis.call('HGET', KEYS[1], ARGV[1])
end
redis.call('EXPIREAT', KEYS[1], ARGV[3])
local p = ARGV[4] .. '|'
local cost = tonumber(ARGV[7])
redis.call('HINCRBY', KEYS[2], p .. ARGV[5], 1)
redis.call('HINCRBY', KEYS[2], p .. 'images', tonumber(ARGV[6]))
redis.call('HINCRBY', KEYS[2], p .. 'spendMicroUsd', cost)
if ARGV[5] == 'wasteRuns' then
  redis.call('HINCRBY', KEYS[2], p .. 'wasteMicroUsd', cost)
end
if ARGV[8] ~= '' then
  redis.call('HINCRBY', KEYS[2], p .. ARGV[8], 1)
end
if ARGV[9] == 'estimated' then
  redis.call('HINCRBY', KEYS[2], p .. 'estimatedMicroUsd', cost)
  redis.call('HINCRBY', KEYS[2], p .. 'unconfirmedRuns', 1)
  redis.call('ZADD', KEYS[3], ARGV[10], ARGV[1])
elseif ARGV[9] == 'confirmed' then
  redis.call('HINCRBY', KEYS[2], p .. 'confirmedMicroUsd', cost)
else
  redis.call('HINCRBY', KEYS[2], p .. 'estimatedMicroUsd', cost)
  redis.call('HINCRBY', KEYS[2], p .. 'tableRuns', 1)
end
return 1
