-- Confirms a run settled from the price table against Runflow's own record: replaces its spend record
-- (only if it is still the one the caller read: compare-and-set) and books the difference as an
-- adjustment on the same ledger row, in one atomic step over the `{spend}` slot.
--
-- Input:
--   KEYS[1] per-day hash of spend records (field: run id)
--   KEYS[2] ledger hash of the run's queue
--   KEYS[3] unconfirmed runs sorted set
--   ARGV[1] run id
--   ARGV[2] the record as read (compare)
--   ARGV[3] the confirmed record (set)
--   ARGV[4] ledger row field prefix "day|model|costCenter|caller"
--   ARGV[5] adjustment, integer micro-USD (confirmed - estimated; 0 when the table stands)
--   ARGV[6] Runflow's cost, integer micro-USD, or "" when Runflow recorded none (the table stands)
--
-- Output:
--   returns 1 when confirmed now, 0 when the record had changed (or is gone): read it again.
--
-- Events: none (no BullMQ events are emitted)
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  redis.call('ZREM', KEYS[3], ARGV[1])
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[1])
local p = ARGV[4] .. '|'
local adjustment = tonumber(ARGV[5])
redis.call('HINCRBY', KEYS[2], p .. 'unconfirmedRuns', -1)
if ARGV[6] == '' then
  redis.call('HINCRBY', KEYS[2], p .. 'tableRuns', 1)
  return 1
end
redis.call('HINCRBY', KEYS[2], p .. 'confirmedMicroUsd', tonumber(ARGV[6]))
redis.call('HINCRBY', KEYS[2], p .. 'adjustmentsMicroUsd', adjustment)
redis.call('HINCRBY', KEYS[2], p .. 'spendMicroUsd', adjustment)
if adjustment ~= 0 then
  redis.call('HINCRBY', KEYS[2], p .. 'adjustedRuns', 1)
end
return 1
