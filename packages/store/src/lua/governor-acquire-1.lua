-- Fleet-wide rate governor for one Runflow API key: GCRA over the whole account, and a GCRA per queue
-- whose rate is the queue's weighted share among the queues that asked recently, so a backlog in one
-- queue cannot starve another. A 429 lowers a factor on the rate (see governor-penalize.lua) that
-- recovers additively over time.
--
-- Input:
--   KEYS[1] governor hash of the API key
--   ARGV[1] now (ms)
--   ARGV[2] configured requests per second
--   ARGV[3] burst (requests that may go at once)
--   ARGV[4] queue name
--   ARGV[5] queue share (weight)
--   ARGV[6] active window (ms): queues that asked within it count for the shares
--   ARGV[7] recovery of the factor per second after a 429 (e.g. 0.05 = +5% of the rate per second)
--   ARGV[8] relaxation of the ceiling per minute (e.g. 0.02): the ceiling is the factor just under the
--     one that last drew a 429; recovery stops there, and it creeps back up slowly
--   ARGV[9] longest wait (ms) a caller accepts for a reserved slot; beyond it the request is refused
--   ARGV[10] time constant (ms) of the decaying count of requests sent (`sent`, `sent_at`; `sent_since`
--     is when the count last started from idle), which governor-penalize-1.lua reads as a rate
--
-- Output:
--   returns {1, delay ms, rate×1000}: a slot is reserved; send the request after `delay` (0 = now).
--     {0, wait ms, rate×1000}: refused; ask again after `wait`.
--
-- Events: none (no BullMQ events are emitted)
local key = KEYS[1]
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local queue = ARGV[4]
local share = tonumber(ARGV[5])
local window = tonumber(ARGV[6])
local recovery = tonumber(ARGV[7])

local flat = redis.call('HGETALL', key)
local h = {}
for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end

local blocked = tonumber(h['blocked_until'] or '0')
if now < blocked then
  return {0, math.ceil(blocked - now), 0}
end

local factor = tonumber(h['factor'] or '1')
if factor < 1 then
  local ceiling = tonumber(h['ceiling'] or '1')
  local ceiling_at = tonumber(h['ceiling_at'] or tostring(now))
  ceiling = math.min(1, ceiling + tonumber(ARGV[8]) * (now - ceiling_at) / 60000)
  local since = tonumber(h['factor_at'] or tostring(now))
  factor = math.min(ceiling, factor + recovery * (now - since) / 1000)
end
local effective = rate * factor

redis.call('HSET', key, 'seen:' .. queue, now, 'share:' .. queue, share)
local shares = share
for field, value in pairs(h) do
  if string.sub(field, 1, 5) == 'seen:' then
    local other = string.sub(field, 6)
    if other ~= queue and now - tonumber(value) <= window then
      shares = shares + tonumber(h['share:' .. other] or '1')
    end
  end
end
local fraction = share / shares

-- GCRA: tat is when the bucket would next be empty; a request may go while tat - now <= (burst-1)·T.
local interval = 1000 / effective
local tat = math.max(tonumber(h['tat'] or '0'), now)
local slack = interval * (burst - 1)
local wait = tat - now - slack

local qinterval = interval / fraction
local qburst = math.max(1, math.floor(burst * fraction))
local qtat = math.max(tonumber(h['tat:' .. queue] or '0'), now)
local qwait = qtat - now - qinterval * (qburst - 1)

-- Within the caller's patience the slot is reserved now (the state moves as if it were sent): the
-- caller waits in-process and sends on time, so pacing is exact and denials stay rare.
local delay = math.max(wait, qwait, 0)
local patience = tonumber(ARGV[9])
if delay > patience then
  return {0, math.ceil(delay - patience), math.floor(effective * 1000)}
end
local tau = tonumber(ARGV[10])
local sent = tonumber(h['sent'] or '0') * math.exp(-math.max(0, now - tonumber(h['sent_at'] or tostring(now))) / tau)
if sent < 0.01 then redis.call('HSET', key, 'sent_since', now) end
redis.call('HSET', key, 'tat', tat + interval, 'tat:' .. queue, qtat + qinterval, 'sent', sent + 1, 'sent_at', now)
return {1, math.ceil(delay), math.floor(effective * 1000)}
