-- Takes a slot under a model's cap of runs in flight (across queues and replicas): the configured cap,
-- or the cap learned from Runflow's 429s (inflight-limited-3.lua) when lower. Idempotent per member;
-- entries older than the stale age are dropped (their job was removed without finishing). A learned
-- cap that binds is probed one higher once per probe wait (recovery without a 429: if the extra run is
-- accepted the cap stays raised; if it draws a 429 the cap goes back and the wait doubles), and a cap
-- not confirmed within its time to live is forgotten.
--
-- Input:
--   KEYS[1] in-flight hash of the model: member -> since (ms)
--   KEYS[2] learned caps hash of the Runflow account (fields cap:<model>, cap_at:<model>, … — see
--     inflight-limited-3.lua)
--   ARGV[1] member ("queue/jobId"), ARGV[2] configured cap (0 = none), ARGV[3] now (ms),
--   ARGV[4] stale age (ms), ARGV[5] model, ARGV[6] first probe wait (ms), ARGV[7] learned cap time to live (ms)
--
-- Output:
--   returns {held (1 = the member holds a slot, 0 = the cap is reached), effective cap (0 = none), runs in flight}
--
-- Events: none (no BullMQ events are emitted)
local member = ARGV[1]
local configured = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local model = ARGV[5]
local count = redis.call('HLEN', KEYS[1])

local cap = nil
if configured > 0 then cap = configured end
local vals = redis.call('HMGET', KEYS[2], 'cap:' .. model, 'cap_at:' .. model, 'probe_wait:' .. model)
local learned = tonumber(vals[1] or '')
if learned then
  local cap_at = tonumber(vals[2] or '0')
  if now - cap_at > tonumber(ARGV[7]) then
    redis.call('HDEL', KEYS[2], 'cap:' .. model, 'cap_at:' .. model, 'since:' .. model, 'prev:' .. model,
      'probe_wait:' .. model, 'probing:' .. model)
    learned = nil
  elseif count >= learned and redis.call('HEXISTS', KEYS[1], member) == 0 then
    local wait = tonumber(vals[3] or ARGV[6])
    if now - cap_at >= wait then
      learned = learned + 1
      redis.call('HSET', KEYS[2], 'cap:' .. model, learned, 'cap_at:' .. model, now, 'probing:' .. model, 1)
    end
  end
end
if learned and (cap == nil or learned < cap) then cap = learned end

if redis.call('HEXISTS', KEYS[1], member) == 1 then return {1, cap or 0, count} end
if cap and count >= cap then
  local stale = tonumber(ARGV[4])
  local flat = redis.call('HGETALL', KEYS[1])
  for i = 1, #flat, 2 do
    if now - tonumber(flat[i + 1]) > stale then redis.call('HDEL', KEYS[1], flat[i]) end
  end
  count = redis.call('HLEN', KEYS[1])
  if count >= cap then return {0, cap, count} end
end
redis.call('HSET', KEYS[1], member, now)
return {1, cap or 0, count + 1}
