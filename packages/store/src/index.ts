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
export { type BalanceSample, BalanceSamples } from './balance-samples.ts';
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
  moveToDelayedWith,
  openQueue,
  type ParkFields,
  promoteJob,
  type QueueErrorLog,
} from './edit-queue.ts';
export { type AccountGovernorState, readGovernorState } from './governor-state.ts';
export { InflightCaps, type InflightCapsOptions, type LearnedCap, type LimitedVerdict } from './inflight-cap.ts';
export {
  bullPrefix,
  DEFAULT_PREFIX,
  governorKey,
  holdsKey,
  inflightKey,
  learnedCapsKey,
  queueKeys,
  queuesKey,
  queueTag,
  runQueueKey,
  spendKeys,
} from './keys.ts';
export { LuaScript, type RedisClient } from './lua-script.ts';
export { ModelIds } from './model-ids.ts';
export {
  apiKeyHash,
  type GovernorDecision,
  type GovernorOptions,
  type GovernorState,
  RateGovernor,
} from './rate-governor.ts';
export { createRedis, duplicateForBlocking } from './redis-connection.ts';
export { RedisLease } from './redis-lease.ts';
export { isConnectionError, isRefusedWrite, redisTroubleKind } from './redis-trouble.ts';
export { RETENTION_SECONDS, retentionSeconds } from './retention.ts';
export { RunIndex, type RunLocation } from './run-index.ts';
export {
  type OrphanCheck,
  settleIfOrphan,
  settleWasteRun,
  type WasteOwner,
  type WasteSettlement,
} from './settle-waste.ts';
export { type LedgerRow, type Settlement, type SettleOutcome, SpendLedger } from './spend-ledger.ts';
export {
  bookedMicroUsd,
  decodeDimension,
  decodeSpendRecord,
  encodeDimension,
  encodeSpendRecord,
  ledgerRowField,
  NO_DIMENSION,
  SPEND_PATHS,
  type SpendPath,
  type SpendRecord,
  type SpendState,
  uuidV7TimeMs,
} from './spend-record.ts';
export { type RecordWindow, SpendRecords } from './spend-records.ts';
export { recordsDayOf, recordsKeyOf, SPEND_RECORD_RETENTION_DAYS } from './spend-retention.ts';
