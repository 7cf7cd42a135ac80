-- Gives a lease up, only if this holder has it (so a late release never drops another's lease).
--
-- Input:
--   KEYS[1] lease key
--   ARGV[1] holder id
--
-- Output:
--   returns 1 when released, 0 when this holder did not have it.
--
-- Events: none (no BullMQ events are emitted)
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
