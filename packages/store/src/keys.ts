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
    /** runId → jobId for runs this queue submitted. */
    run: (runId: string) => `${tag}:run:${runId}`,
    /** Marker that a run's spend was settled (settle once per run). */
    settled: (runId: string) => `${tag}:settled:${runId}`,
    /** Spend ledger: one hash, fields `day|model|costCenter|metric`. */
    ledger: `${tag}:ledger`,
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

/** Runs in flight on Runflow for one model, across queues. */
export function inflightKey(prefix: string, model: string): string {
  return `${prefix}:{inflight}:${model}`;
}

/** runId → queue, for callbacks that arrive without our metadata. Global: a separate slot. */
export function runQueueKey(prefix: string, runId: string): string {
  return `${prefix}:run-queue:${runId}`;
}

/** Set of queue names that have run jobs, for the ledger CLI and dashboard. */
export function queuesKey(prefix: string): string {
  return `${prefix}:queues`;
}
