-- Moves a queue's budget windows by a confirmed run's adjustment (Runflow's cost − our estimate), so
-- budgets bind on what Runflow billed. Only windows that exist change (a queue without a budget has
-- none). Not atomic with the confirmation (another slot): a stop in between leaves the windows at the
-- estimate for that run.
--
-- Input:
--   KEYS[1] budget day window hash, KEYS[2] budget month window hash
--   ARGV[1] adjustment, integer micro-USD (may be negative)
--
-- Output:
--   returns the number of windows changed (0, 1 or 2).
--
-- Events: none (no BullMQ events are emitted)
local changed = 0
for i = 1, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('HINCRBY', KEYS[i], 'spent', tonumber(ARGV[1]))
    changed = changed + 1
  end
end
return changed
