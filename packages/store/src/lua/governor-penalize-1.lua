-- A 429 from Runflow that is the account's rate limit (not a model's concurrency cap: see
-- inflight-limited-3.lua): multiplicative decrease of the fleet's rate, once per episode (429s within the
-- guard window of the episode's first one are the tail of the same overshoot: requests reserved or in
-- flight at the old rate), and a full stop until Retry-After when it was given.
--
-- Unless the 429s do not follow the rate: a rate limit lets the same number of requests through per
-- second whatever we send above it, so halving the rate leaves the rate of requests that got through
-- as it was (or the 429s stop). When the last halving cut the requests that got through about as much
-- as it cut the rate (to at most `insensitive ratio` of before) and 429s still come, they are a fixed
-- share of requests (a cap, a fault) that slowing down cannot cure: the halving is undone (factor and
-- ceiling back to before it, or before the run of halvings it ended) and 429s leave the rate alone for
-- the hold time. Requests that got through
-- are the decaying count of grants (governor-acquire-1.lua) minus the decaying count of 429s. Only a
-- fleet that used the rate it was granted can show that: when it sent well below it (a stalled process,
-- demand that fell), fewer requests got through because fewer were sent, and the halving stands.
--
-- Input:
--   KEYS[1] governor hash of the API key
--   ARGV[1] now (ms)
--   ARGV[2] Retry-After in ms (0 when absent)
--   ARGV[3] decrease factor (e.g. 0.5)
--   ARGV[4] floor of the factor (e.g. 0.05)
--   ARGV[5] guard window (ms)
--   ARGV[6] recovery per second (same as governor-acquire-1.lua)
--   ARGV[7] ceiling relaxation per minute (same as governor-acquire-1.lua)
--   ARGV[8] ceiling margin (e.g. 0.9): the new ceiling is this times the factor that drew the 429
--   ARGV[9] time constant (ms) of the decaying counts (same as governor-acquire-1.lua)
--   ARGV[10] insensitive ratio (e.g. 0.75)
--   ARGV[11] hold (ms): how long 429s that did not follow the rate leave it alone
--   ARGV[12] the fleet's configured requests per second (what factor 1 grants)
--
-- Output:
--   returns the new factor ×1000.
--
-- Events: none (no BullMQ events are emitted)
local key = KEYS[1]
local now = tonumber(ARGV[1])
local retry_after = tonumber(ARGV[2])
local tau = tonumber(ARGV[9])
local vals = redis.call('HMGET', key, 'factor', 'factor_at', 'penalized_at', 'blocked_until', 'ceiling', 'ceiling_at',
  'sent', 'sent_at', 'limited', 'limited_at', 'ep_through', 'ep_halved', 'ep_factor', 'ep_ceiling', 'hold_until',
  'sent_since', 'ep_share')
local factor = tonumber(vals[1] or '1')
local ceiling = tonumber(vals[5] or '1')
if factor < 1 then
  ceiling = math.min(1, ceiling + tonumber(ARGV[7]) * (now - tonumber(vals[6] or tostring(now))) / 60000)
  factor = math.min(ceiling, factor + tonumber(ARGV[6]) * (now - tonumber(vals[2] or tostring(now))) / 1000)
end
local function decayed(count, at)
  return tonumber(count or '0') * math.exp(-math.max(0, now - tonumber(at or tostring(now))) / tau)
end
local sent = decayed(vals[7], vals[8])
local limited = decayed(vals[9], vals[10]) + 1
redis.call('HSET', key, 'limited', limited, 'limited_at', now)
-- Requests per second that got through, lately (a count that started from idle less than a time
-- constant ago covers only that span).
local age = math.max(0, now - tonumber(vals[16] or tostring(now)))
local span = tau * (1 - math.exp(-age / tau))
local through = math.max(0, sent - limited) * 1000 / math.max(span, tau / 10)
local share = math.min(1, limited / math.max(sent, 1))
local sent_rate = sent * 1000 / math.max(span, tau / 10)
local used_its_rate = sent_rate >= 0.7 * factor * tonumber(ARGV[12])
-- What this episode leaves as the baseline of the next: nothing when the count is too young.
local baseline = through
if age < tau then baseline = 0 end

local last = tonumber(vals[3] or '0')
if now - last >= tonumber(ARGV[5]) then
  -- A new episode. (penalized_at marks the episode's start, so its tail cannot extend it.)
  redis.call('HINCRBY', key, 'episodes', 1)
  local before = tonumber(vals[11] or '0')
  if now < tonumber(vals[15] or '0') then
    -- Held: these 429s were shown not to follow the rate.
    redis.call('HSET', key, 'penalized_at', now, 'ep_through', baseline, 'ep_share', share, 'ep_halved', 0)
  elseif vals[12] == '1' and before > 0 and through <= tonumber(ARGV[10]) * before
    and share >= 0.5 * tonumber(vals[17] or '1') and used_its_rate then
    factor = tonumber(vals[13] or '1')
    ceiling = tonumber(vals[14] or '1')
    redis.call('HSET', key, 'factor', factor, 'factor_at', now, 'ceiling', ceiling, 'ceiling_at', now,
      'penalized_at', now, 'ep_through', before, 'ep_halved', 0, 'hold_until', now + tonumber(ARGV[11]))
    redis.call('HINCRBY', key, 'insensitive', 1)
  else
    local floor = tonumber(ARGV[4])
    local new_ceiling = math.max(floor, factor * tonumber(ARGV[8]))
    local new_factor = math.max(floor, factor * tonumber(ARGV[3]))
    -- Undoing restores the rate from before a run of halvings in a row, not only the last one.
    local from_factor, from_ceiling = factor, ceiling
    if vals[12] == '1' then from_factor, from_ceiling = tonumber(vals[13] or '1'), tonumber(vals[14] or '1') end
    redis.call('HSET', key, 'factor', new_factor, 'factor_at', now, 'penalized_at', now, 'ceiling', new_ceiling,
      'ceiling_at', now, 'ep_through', baseline, 'ep_share', share, 'ep_halved', 1, 'ep_factor', from_factor,
      'ep_ceiling', from_ceiling)
    redis.call('HINCRBY', key, 'penalties', 1)
    factor = new_factor
  end
end
if retry_after > 0 then
  local blocked = math.max(tonumber(vals[4] or '0'), now + retry_after)
  redis.call('HSET', key, 'blocked_until', blocked)
end
return math.floor(factor * 1000)
