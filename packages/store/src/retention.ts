// How long each per-run record of ours is kept in Redis, and why: the shortest time that keeps the
// invariants (docs/production.md, "Redis keys and retention", has the table with bytes per job).
// Finished BullMQ jobs are kept by the producer's removeOnComplete / removeOnFail ages (24 h, the
// idempotency window; 7 d for failed jobs); the settle-once marker by the spend ledger.

const HOUR_SECONDS = 3600;

export const RETENTION_SECONDS = {
  /**
   * A stored callback is read by its job's next wake-up — milliseconds after the promote, or at its
   * next poll if the promote was missed — and never once the job has finished (the result is in the
   * job). A job lives at most its run deadline (15 min by default) after submit; 24 h covers a fleet
   * that was down for most of a day. Past it, a job still parked polls GET /v1/runs/{id} instead.
   */
  callbackInbox: 24 * HOUR_SECONDS,
  /**
   * clientRef → runId adopts the run of an ambiguous submit: read while the job is in step
   * `submitting` (its grace period, 60 s by default, then a look-up) and once at finalize after a
   * resubmit. Same bound as the inbox.
   */
  clientRef: 24 * HOUR_SECONDS,
  /**
   * runId → queue and job routes a callback that lacks our metadata (Runflow echoes it verbatim, so
   * this is the fallback). It can only help while the job exists: 24 h completed, 7 d failed (a failed
   * job's late run is still settled as waste from it).
   */
  runIndex: 7 * 24 * HOUR_SECONDS,
} as const;

/**
 * A retention in seconds divided by `divisor` (≥ 1; benchmarks set RETENTION_DIVISOR so that "24 h"
 * passes in seconds and what stays can be measured). Never below one second.
 */
export function retentionSeconds(seconds: number, divisor = 1): number {
  return Math.max(1, Math.ceil(seconds / Math.max(1, divisor)));
}
