-- Takes a slot under a model's cap of runs in flight (across queues and replicas). Idempotent per
-- member; entries older than the stale age are dropped (their job was removed without finishing).
--
-- Input:
--   KEYS[1] in-flight hash of the model: member -> since (ms)
--   ARGV[1] member ("queue/jobId"), ARGV[2] cap, ARGV[3] now (ms), ARGV[4] stale age (ms)
--
-- Output:
--   returns 1 when the member holds a slot, 0 when the cap is reached.
--
-- Events: none (no BullMQ events are emitted)
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 1 end
local cap = tonumber(ARGV[2])
if redis.call('HLEN', KEYS[1]) >= cap then
  local now = tonumber(ARGV[3])
  local stale = tonumber(ARGV[4])
  local flat = redis.call('HGETALL', KEYS[1])
  for i = 1, #flat, 2 do
    if now - tonumber(flat[i + 1]) > stale then redis.call('HDEL', KEYS[1], flat[i]) end
  end
  if redis.call('HLEN', KEYS[1]) >= cap then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
