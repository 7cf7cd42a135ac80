-- Stores a verified callback payload in the run's inbox: first write wins; duplicates are counted
-- and dropped. Also indexes clientRef -> runId so an ambiguous submit can adopt the run, and tells
-- ingest whether the run is its job's own (so ingest reads the job only for a run it did not keep).
--
-- Input:
--   KEYS[1] inbox key of the run
--   KEYS[2] ref key of the clientRef (may be a dummy key in the same slot when there is no clientRef)
--   KEYS[3] callbacks counter hash of the queue
--   KEYS[4] BullMQ job hash of the job the callback names
--   ARGV[1] stored value (JSON: receivedAt + raw body)
--   ARGV[2] TTL in seconds
--   ARGV[3] run id
--   ARGV[4] "1" when KEYS[2] is a real clientRef key
--
-- Output:
--   { stored, current }: stored 1 when stored now, 0 when a payload was already there (duplicate);
--   current 1 when the job is not finished and its data names this run or no run yet (nothing to
--   settle as waste), 0 when ingest must look at the job (finished, another run, or no such job).
--
-- Events: none (no BullMQ events are emitted)
local stored = 0
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  if ARGV[4] == '1' then
    redis.call('SET', KEYS[2], ARGV[3], 'NX', 'EX', ARGV[2])
  end
  redis.call('HINCRBY', KEYS[3], 'received', 1)
  stored = 1
else
  redis.call('HINCRBY', KEYS[3], 'duplicate', 1)
end
local current = 0
local job = redis.call('HMGET', KEYS[4], 'finishedOn', 'data')
if not job[1] and job[2] then
  -- Plain finds on the JSON the worker wrote: a string value cannot hold an unescaped quote, so
  -- '"runId":"<run>"' matches only a runId key; when in doubt (a nested runId key), ingest reads the job.
  if string.find(job[2], '"runId":"' .. ARGV[3] .. '"', 1, true) or not string.find(job[2], '"runId":', 1, true) then
    current = 1
  end
end
return { stored, current }
