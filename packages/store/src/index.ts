export {
  AccountHolds,
  type AccountHoldsOptions,
  accountHash,
  type BreakerPolicy,
  type BreakerState,
  type CreditState,
  DEFAULT_BREAKER_POLICY,
  type HoldsSnapshot,
  type PauseHold,
  parseHolds,
  submitHoldOf,
} from './account-holds.ts';
export {
  BUDGET_WINDOW_TTL_SECONDS,
  type BudgetStatus,
  BudgetStore,
  budgetStatuses,
  nextWindowStart,
  type Reservation,
  type ReserveResult,
  usdToMicro,
  type WindowUsage,
} from './budget-store.ts';
export { CallbackInbox, type InboxEntry, type InboxOptions } from './callback-inbox.ts';
export {
  type AbandonAnswer,
  abandonJob,
  type EditQueue,
  jobTraceMetadata,
  openQueue,
  promoteJob,
  type QueueErrorLog,
} from './edit-queue.ts';
export { InflightCaps } from './inflight-cap.ts';
export {
  bullPrefix,
  DEFAULT_PREFIX,
  governorKey,
  holdsKey,
  inflightKey,
  queueKeys,
  queuesKey,
  queueTag,
  runQueueKey,
} from './keys.ts';
export { LuaScript, type RedisClient } from './lua-script.ts';
export { type GovernorDecision, type GovernorOptions, RateGovernor } from './rate-governor.ts';
export { createRedis, duplicateForBlocking } from './redis-connection.ts';
export { isConnectionError, isRefusedWrite, redisTroubleKind } from './redis-trouble.ts';
export { RunIndex, type RunLocation } from './run-index.ts';
export {
  type OrphanCheck,
  settleIfOrphan,
  settleWasteRun,
  type WasteOwner,
  type WasteSettlement,
} from './settle-waste.ts';
export { type LedgerRow, type Settlement, SpendLedger } from './spend-ledger.ts';
