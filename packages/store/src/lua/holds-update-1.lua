-- The account's holds (breaker, credit hold) in one hash, changed atomically. Pauses are plain
-- HSET/HDEL of `pause:<queue|*>` fields of the same hash (account-holds.ts).
--
-- Input:
--   KEYS[1] holds hash of the Runflow account
--   ARGV[1] operation:
--     "failure"       a 5xx / network failure: the streak grows; at ARGV[4] failures within ARGV[5] ms
--                     the breaker opens (first probe ARGV[6] ms later)
--     "success"       Runflow answered: the streak resets; an open breaker closes
--     "claim"         take the probe of hold ARGV[3] ("breaker" | "credit") when it is due and no other
--                     worker holds it; ARGV[4] = how long the claim lasts (ms)
--     "probe-failed"  the breaker's probe failed: next probe after twice the backoff, capped at ARGV[4] ms
--     "credit-hold"   Runflow answered 402: hold submits (reason ARGV[3]); first probe after ARGV[4] ms
--     "credit-probed" the balance is still spent: next probe after ARGV[4] ms
--     "credit-lift"   credit is back: lift the hold
--   ARGV[2] now (epoch ms)
--   ARGV[3..6] per operation, as above; for "failure": ARGV[3] = reason
--
-- Output:
--   1 when the operation changed a hold's state (opened, closed, claimed, held, lifted), else 0
--
-- Events:
--   none
local key = KEYS[1]
local op = ARGV[1]
local now = tonumber(ARGV[2])

local function num(field, default)
  local v = redis.call('HGET', key, field)
  if v then return tonumber(v) end
  return default
end

if op == 'failure' then
  if redis.call('HGET', key, 'breaker_state') == 'open' then return 0 end
  local windowMs = tonumber(ARGV[5])
  local first = num('streak_first', 0)
  local streak = num('streak', 0)
  if streak == 0 or now - first > windowMs then
    first = now
    streak = 0
  end
  streak = streak + 1
  redis.call('HSET', key, 'streak', streak, 'streak_first', first)
  if streak >= tonumber(ARGV[4]) then
    local backoff = tonumber(ARGV[6])
    redis.call('HSET', key, 'breaker_state', 'open', 'breaker_since', now, 'breaker_reason',
      streak .. ' failures in a row in ' .. (now - first) .. ' ms; last: ' .. ARGV[3],
      'breaker_probe_at', now + backoff, 'breaker_backoff_ms', backoff, 'streak', 0)
    redis.call('HINCRBY', key, 'breaker_opens', 1)
    return 1
  end
  return 0
end

if op == 'success' then
  redis.call('HSET', key, 'streak', 0)
  if redis.call('HGET', key, 'breaker_state') ~= 'open' then return 0 end
  local since = num('breaker_since', now)
  redis.call('HINCRBY', key, 'breaker_open_total_ms', math.max(0, now - since))
  redis.call('HSET', key, 'breaker_state', 'closed', 'breaker_closed_at', now, 'breaker_last_open_ms', now - since)
  redis.call('HDEL', key, 'breaker_probe_at', 'breaker_backoff_ms', 'breaker_claim_until')
  return 1
end

if op == 'claim' then
  local hold = ARGV[3]
  if hold == 'breaker' and redis.call('HGET', key, 'breaker_state') ~= 'open' then return 0 end
  if hold == 'credit' and not redis.call('HGET', key, 'credit_since') then return 0 end
  if num(hold .. '_probe_at', 0) > now or num(hold .. '_claim_until', 0) > now then return 0 end
  redis.call('HSET', key, hold .. '_claim_until', now + tonumber(ARGV[4]))
  return 1
end

if op == 'probe-failed' then
  if redis.call('HGET', key, 'breaker_state') ~= 'open' then return 0 end
  local backoff = math.min(tonumber(ARGV[4]), num('breaker_backoff_ms', 1000) * 2)
  redis.call('HSET', key, 'breaker_backoff_ms', backoff, 'breaker_probe_at', now + backoff)
  redis.call('HDEL', key, 'breaker_claim_until')
  return 0
end

if op == 'credit-hold' then
  if redis.call('HGET', key, 'credit_since') then return 0 end
  redis.call('HSET', key, 'credit_since', now, 'credit_reason', ARGV[3], 'credit_probe_at', now + tonumber(ARGV[4]))
  redis.call('HINCRBY', key, 'credit_holds', 1)
  return 1
end

if op == 'credit-probed' then
  if not redis.call('HGET', key, 'credit_since') then return 0 end
  redis.call('HSET', key, 'credit_probe_at', now + tonumber(ARGV[4]))
  redis.call('HDEL', key, 'credit_claim_until')
  return 0
end

if op == 'credit-lift' then
  local since = num('credit_since', nil)
  if not since then return 0 end
  redis.call('HINCRBY', key, 'credit_hold_total_ms', math.max(0, now - since))
  redis.call('HSET', key, 'credit_lifted_at', now, 'credit_last_hold_ms', now - since)
  redis.call('HDEL', key, 'credit_since', 'credit_reason', 'credit_probe_at', 'credit_claim_until')
  return 1
end

return redis.error_reply('unknown operation ' .. tostring(op))
