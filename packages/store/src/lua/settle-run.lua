-- Settles one run's spend into the queue's ledger exactly once.
-- KEYS[1] settled marker of the run
-- KEYS[2] ledger hash of the queue
-- ARGV[1] marker TTL in seconds
-- ARGV[2] field prefix "day|model|costCenter"
-- ARGV[3] outcome field: "completed" or "failed"
-- ARGV[4] delivered images
-- ARGV[5] cost in integer micro-USD
-- ARGV[6] completedBy: "callback" or "poll"
-- Returns 1 when settled now, 0 when the run had been settled before.
if not redis.call('SET', KEYS[1], ARGV[5], 'NX', 'EX', ARGV[1]) then
  return 0
end
local p = ARGV[2] .. '|'
redis.call('HINCRBY', KEYS[2], p .. ARGV[3], 1)
redis.call('HINCRBY', KEYS[2], p .. 'images', tonumber(ARGV[4]))
redis.call('HINCRBY', KEYS[2], p .. 'spendMicroUsd', tonumber(ARGV[5]))
redis.call('HINCRBY', KEYS[2], p .. 'by_' .. ARGV[6], 1)
return 1
