-- A create for a model succeeded: count the run as accepted (in flight on Runflow's side, as far as we
-- know: admitted jobs that have not sent their create yet are not), remember the most accepted runs a
-- create of it succeeded next to lately
-- (a later 429 with fewer in flight is not the model's cap), and end a probe of its learned cap that
-- worked (the raised cap stays; the next probe waits the first probe wait again). The time of the
-- model's last accepted create is kept too (answered_at): it tells a 429 that picks one model (a cap).
--
-- Input:
--   KEYS[1] accepted-runs hash of the model (the in-flight members whose create was answered): member -> since (ms)
--   KEYS[2] learned caps hash of the Runflow account (see inflight-limited-3.lua)
--   ARGV[1] member, ARGV[2] model, ARGV[3] now (ms), ARGV[4] window of the record (ms), ARGV[5] first probe wait (ms)
--
-- Output:
--   returns the model's accepted runs in flight besides this one.
--
-- Events: none (no BullMQ events are emitted)
local model = ARGV[2]
local now = tonumber(ARGV[3])
local others = redis.call('HLEN', KEYS[1])
if redis.call('HSET', KEYS[1], ARGV[1], now) == 0 then others = others - 1 end
local v = redis.call('HMGET', KEYS[2], 'ok:' .. model, 'ok_at:' .. model, 'probing:' .. model, 'cap:' .. model)
local okmax = tonumber(v[1] or '-1')
if now - tonumber(v[2] or '0') > tonumber(ARGV[4]) then okmax = -1 end
if others >= okmax then
  redis.call('HSET', KEYS[2], 'answered_at:' .. model, now, 'ok:' .. model, others, 'ok_at:' .. model, now)
else
  redis.call('HSET', KEYS[2], 'answered_at:' .. model, now)
end
local cap = tonumber(v[4] or '')
if v[3] == '1' and cap and others >= cap - 1 then
  redis.call('HSET', KEYS[2], 'probing:' .. model, 0, 'probe_wait:' .. model, ARGV[5])
end
return others
