// Every key of one queue shares the hash tag `{queue}`, so all of a queue's keys (BullMQ's and ours)
// live in one Redis Cluster slot and its Lua scripts can touch several of them atomically.

/** Base prefix of every key this system writes (env REDIS_PREFIX). */
export const DEFAULT_PREFIX = 'rfq';

export function queueTag(prefix: string, queue: string): string {
  return `${prefix}:{${queue}}`;
}

/** The `prefix` option for BullMQ's Queue/Worker/QueueEvents of this queue. */
export function bullPrefix(prefix: string, queue: string): string {
  return queueTag(prefix, queue);
}

export function queueKeys(prefix: string, queue: string) {
  const tag = queueTag(prefix, queue);
  return {
    /** Callback payload of a run, first write wins. */
    inbox: (runId: string) => `${tag}:inbox:${runId}`,
    /** clientRef → runId, written from callbacks, to adopt a run whose submit was ambiguous. */
    ref: (clientRef: string) => `${tag}:ref:${clientRef}`,
    /** The ledger of an earlier deploy (fields `day|model|costCenter[|caller]|metric`): read, never written. */
    legacyLedger: `${tag}:ledger`,
    /** An earlier deploy's per-queue settle-once marker (8-day TTL): read, never written. */
    legacySettled: (runId: string) => `${tag}:settled:${runId}`,
    /** Callback counters: received, duplicate, unmatched. */
    callbacks: `${tag}:callbacks`,
    /** Budget reservations held by jobs: jobId → "amount|day|month". */
    reservations: `${tag}:reservations`,
    /** Budget window totals {reserved, spent} for a UTC day (YYYY-MM-DD) or month (YYYY-MM). */
    budgetDay: (day: string) => `${tag}:budget:day:${day}`,
    budgetMonth: (month: string) => `${tag}:budget:month:${month}`,
  };
}

/** The rate governor of one Runflow API key (by a hash of the key, never the key itself). */
export function governorKey(prefix: string, apiKeyHash: string): string {
  return `${prefix}:{governor}:${apiKeyHash}`;
}

/**
 * The holds of one Runflow account (breaker, credit hold, operators' pauses), by the same hash of the
 * account key as its governor. No TTL: a pause outlives restarts until it is resumed.
 */
export function holdsKey(prefix: string, accountHash: string): string {
  return `${prefix}:{holds}:${accountHash}`;
}

/**
 * Account-wide spend keys, all in the `{spend}` slot: settling a run (its record, the settle-once check
 * and the ledger increments) is one Lua script over one slot, whatever queue the run's job is in.
 */
export function spendKeys(prefix: string) {
  const tag = `${prefix}:{spend}`;
  return {
    /**
     * Per-run spend records of the runs created on a UTC day (from the UUIDv7 run id; `undated` for any
     * other id): field = run id, value = the encoded record. HSETNX on it is the settle-once check.
     */
    runs: (day: string) => `${tag}:runs:${day}`,
    /** Spend ledger of a queue: fields `day|model|costCenter|caller|metric`, parts encoded. */
    ledger: (queue: string) => `${tag}:ledger:${queue}`,
    /** Runs settled from the price table and not yet confirmed: run id → settled at (ms). */
    unconfirmed: `${tag}:unconfirmed`,
    /** Balance samples: score = ms, member = `ms|balanceCents|ledgerMicroUsd`. */
    balance: `${tag}:balance`,
    /** Lease of the one reconciler of the fleet (value: the holder). */
    reconcilerLease: `${tag}:reconciler`,
    /** Runflow's `model_id` (a uuid) → our model slug, learnt from create answers. */
    modelIds: `${tag}:model-ids`,
    /** How far the reconciler's scan of Runflow's run list has reached (created_at, ms). */
    healCursor: `${tag}:heal-cursor`,
  };
}

/** Runs in flight on Runflow for one model, across queues. */
export function inflightKey(prefix: string, model: string): string {
  return `${prefix}:{inflight}:${model}`;
}

/** Of the runs in flight for one model, the ones Runflow accepted (their create answered): member → since (ms). */
export function acceptedRunsKey(prefix: string, model: string): string {
  return `${prefix}:{inflight}:accepted:${model}`;
}

/**
 * The per-model concurrency caps learned from one Runflow API key's 429s (by the key's hash). In the
 * in-flight slot, so one script reads both the runs in flight and the caps (Redis Cluster).
 */
export function learnedCapsKey(prefix: string, apiKeyHash: string): string {
  return `${prefix}:{inflight}:caps:${apiKeyHash}`;
}

/** runId → queue, for callbacks that arrive without our metadata. Global: a separate slot. */
export function runQueueKey(prefix: string, runId: string): string {
  return `${prefix}:run-queue:${runId}`;
}

/** Set of queue names that have run jobs, for the ledger CLI and dashboard. */
export function queuesKey(prefix: string): string {
  return `${prefix}:queues`;
}
