-- Takes or keeps a lease: one holder at a time (the fleet's one spend reconciler).
--
-- Input:
--   KEYS[1] lease key
--   ARGV[1] holder id
--   ARGV[2] lease duration (ms)
--
-- Output:
--   returns 1 when ARGV[1] holds the lease now (taken or renewed), 0 when another holder has it.
--
-- Events: none (no BullMQ events are emitted)
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
