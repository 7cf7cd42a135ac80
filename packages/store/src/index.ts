export { CallbackInbox, type InboxEntry, type InboxOptions } from './callback-inbox.ts';
export { InflightCaps } from './inflight-cap.ts';
export {
  bullPrefix,
  DEFAULT_PREFIX,
  governorKey,
  inflightKey,
  QUEUE_NAME_PATTERN,
  queueKeys,
  queuesKey,
  queueTag,
  runQueueKey,
} from './keys.ts';
export { LuaScript, type RedisClient } from './lua-script.ts';
export {
  BUDGET_WINDOW_TTL_SECONDS,
  BudgetStore,
  nextWindowStart,
  type Reservation,
  type ReserveResult,
  usdToMicro,
  type WindowUsage,
} from './queue-budget.ts';
export { type GovernorDecision, type GovernorOptions, RateGovernor } from './rate-governor.ts';
export { createRedis, duplicateForBlocking } from './redis-connection.ts';
export { RunIndex, type RunLocation } from './run-index.ts';
export { type LedgerRow, type Settlement, SpendLedger } from './spend-ledger.ts';
