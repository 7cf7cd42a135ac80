export { CallbackInbox, type InboxEntry, type InboxOptions } from './callback-inbox.ts';
export { bullPrefix, DEFAULT_PREFIX, QUEUE_NAME_PATTERN, queueKeys, queuesKey, queueTag, runQueueKey } from './keys.ts';
export { LuaScript, type RedisClient } from './lua-script.ts';
export { createRedis, duplicateForBlocking } from './redis-connection.ts';
export { RunIndex, type RunLocation } from './run-index.ts';
export { type LedgerRow, type Settlement, SpendLedger } from './spend-ledger.ts';
