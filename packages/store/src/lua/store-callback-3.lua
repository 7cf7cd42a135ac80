-- Stores a verified callback payload in the run's inbox: first write wins; duplicates are counted
-- and dropped. Also indexes clientRef -> runId so an ambiguous submit can adopt the run.
--
-- Input:
--   KEYS[1] inbox key of the run
--   KEYS[2] ref key of the clientRef (may be a dummy key in the same slot when there is no clientRef)
--   KEYS[3] callbacks counter hash of the queue
--   ARGV[1] stored value (JSON: receivedAt + raw body)
--   ARGV[2] TTL in seconds
--   ARGV[3] run id
--   ARGV[4] "1" when KEYS[2] is a real clientRef key
--
-- Output:
--   returns 1 when stored, 0 when a payload was already there (duplicate).
--
-- Events: none (no BullMQ events are emitted)
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  if ARGV[4] == '1' then
    redis.call('SET', KEYS[2], ARGV[3], 'NX', 'EX', ARGV[2])
  end
  redis.call('HINCRBY', KEYS[3], 'received', 1)
  return 1
end
redis.call('HINCRBY', KEYS[3], 'duplicate', 1)
return 0
