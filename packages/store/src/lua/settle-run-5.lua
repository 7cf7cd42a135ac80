-- Settles one run's spend into the queue's ledger exactly once, and settles the job's budget
-- reservation (reserved -> spent) in the same step.
--
-- Input:
--   KEYS[1] settled marker of the run
--   KEYS[2] ledger hash of the queue
--   KEYS[3] reservations hash of the queue
--   KEYS[4] budget day window hash, KEYS[5] budget month window hash (any key of the queue when unused)
--   ARGV[1] marker TTL in seconds
--   ARGV[2] field prefix "day|model|costCenter"
--   ARGV[3] outcome field: "completed", "failed" or "wasteRuns" (a billed run no job kept: orphan/duplicate)
--   ARGV[4] delivered images
--   ARGV[5] cost in integer micro-USD
--   ARGV[6] completedBy: "callback" or "poll"
--   ARGV[7] job id whose reservation to settle ("" for none)
--   ARGV[8] marker value (JSON: cost, price used, source)
--   ARGV[9] budget window TTL (s), or 0 when the queue has no budget (KEYS[4], KEYS[5] then unused)
--
-- Output:
--   returns 1 when settled now, 0 when the run had been settled before.
--
-- Events: none (no BullMQ events are emitted)
if not redis.call('SET', KEYS[1], ARGV[8], 'NX', 'EX', ARGV[1]) then
  return 0
end
local p = ARGV[2] .. '|'
local cost = tonumber(ARGV[5])
redis.call('HINCRBY', KEYS[2], p .. ARGV[3], 1)
redis.call('HINCRBY', KEYS[2], p .. 'images', tonumber(ARGV[4]))
redis.call('HINCRBY', KEYS[2], p .. 'spendMicroUsd', cost)
if ARGV[3] == 'wasteRuns' then
  redis.call('HINCRBY', KEYS[2], p .. 'wasteMicroUsd', cost)
else
  redis.call('HINCRBY', KEYS[2], p .. 'by_' .. ARGV[6], 1)
end
if tonumber(ARGV[9]) > 0 then
  -- With a reservation, its windows (KEYS[4], KEYS[5]) move reserved -> spent; without one (an
  -- orphan run), the cost still counts against the current windows: it is money spent.
  local record = ARGV[7] ~= '' and redis.call('HGET', KEYS[3], ARGV[7])
  if record then
    local amount = tonumber(string.match(record, '^(%d+)|'))
    redis.call('HDEL', KEYS[3], ARGV[7])
    redis.call('HINCRBY', KEYS[4], 'reserved', -amount)
    redis.call('HINCRBY', KEYS[5], 'reserved', -amount)
  end
  redis.call('HINCRBY', KEYS[4], 'spent', cost)
  redis.call('HINCRBY', KEYS[5], 'spent', cost)
  redis.call('EXPIRE', KEYS[4], ARGV[9])
  redis.call('EXPIRE', KEYS[5], ARGV[9])
end
return 1
