-- Marks an edit job abandoned, atomically, unless a worker holds it right now.
-- Only an unlocked job is marked: the next worker to take it reads the flag with the job's data, and
-- a worker already holding it would overwrite the flag when it saves its own copy of the data.
--
-- Input:
--   KEYS[1] the job's hash (BullMQ: <prefix>:<queue>:<jobId>)
--   KEYS[2] the job's lock (<job hash>:lock), present while a worker processes the job
--   ARGV[1] now, epoch ms
--
-- Output:
--   returns 'missing' (no such job), 'finished' (completed or failed), 'active' (a worker holds it;
--   nothing changed), or the job's step ('queued', 'submitting', 'submitted') after marking it.
--
-- Events: none (no BullMQ events are emitted)
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 'missing'
end
if redis.call('HEXISTS', KEYS[1], 'finishedOn') == 1 then
  return 'finished'
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 'active'
end
local raw = redis.call('HGET', KEYS[1], 'data')
local ok, data = pcall(cjson.decode, raw or '')
if not ok or type(data) ~= 'table' then
  return 'missing'
end
local step = data.step or 'queued'
if data.abandoned ~= true then
  -- Append rather than re-encode: cjson would round integers past 14 digits (seeds) and turn {} into [].
  -- JSON.parse keeps the last of duplicate keys, so the appended fields win.
  local body = string.match(raw, '^%s*{(.*)}%s*$')
  local sep = ','
  if string.match(body, '^%s*$') then
    sep = ''
  end
  local patched = '{' .. body .. sep .. '"abandoned":true,"abandonedAt":' .. ARGV[1] .. '}'
  redis.call('HSET', KEYS[1], 'data', patched)
end
return step
