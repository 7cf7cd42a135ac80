import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkerMetrics } from '@runflow-queue/metrics';
import type { EditJobData } from '@runflow-queue/shared';
import { redisTroubleKind } from '@runflow-queue/store';
import type { Logger } from 'pino';
import type { EditJob } from './park-job.ts';
import type { RedisTrouble } from './redis-trouble.ts';
import { PARKED } from './run-steps.ts';

/**
 * While Redis refuses the move too, try again every 250 ms doubling to 2 s, for up to a minute: the
 * job parks as soon as Redis takes writes again. Once its lock has lapsed the move fails for good
 * (another worker, or BullMQ's stalled check, has the job) and this gives up quietly.
 */
const PARK_RETRY_MS = 250;
const MAX_PARK_RETRY_MS = 2_000;
const PARK_TRYING_MS = 60_000;
/** An unexpected error (a bug, not Redis) is retried no sooner than this (ms, jittered ×0.5–1): a job
 * that keeps meeting it costs a wake-up every few seconds, not a tight loop. */
const UNEXPECTED_RETRY_MS = 10_000;

/**
 * Invariant 9: an error that is not the job's own — Redis trouble at any step, or any unexpected
 * error once a run may exist (step `submitting` or `submitted`) — never uses an attempt: the job may
 * have a paid run, and giving it up would lose that run's outcome (and a retry could pay twice).
 */
export function isTroubleNotTheJobs(error: unknown, data: Pick<EditJobData, 'step'> | undefined): boolean {
  if (redisTroubleKind(error) !== undefined) return true;
  return data?.step === 'submitting' || data?.step === 'submitted';
}

/**
 * Parks the job (moveToDelayed, no attempt used) for the trouble's backoff, and resolves the signal
 * the processor throws. While Redis refuses the move too, waits and tries again a few times; if it
 * still cannot, the job stays active until its lock lapses and BullMQ's stalled check puts it back
 * (stalls are not attempts) — never failed.
 */
export async function parkAfterTrouble(
  job: EditJob,
  token: string,
  error: unknown,
  deps: { queue: string; trouble: RedisTrouble; logger: Logger; metrics?: WorkerMetrics; now: () => number },
): Promise<Error> {
  const data = job.data as Partial<EditJobData>;
  const reason = redisTroubleKind(error) ? 'redis' : 'unexpected';
  deps.trouble.record(error, 'job');
  deps.metrics?.infraRetries.inc({ queue: deps.queue, step: data.step ?? 'queued', reason });
  const log = deps.logger.child({ queue: deps.queue, jobId: job.id, runId: data.runId, model: data.model });
  if (reason === 'unexpected') log.error({ err: error }, 'unexpected error on a job that may have a run; retrying it');
  const giveUpAt = deps.now() + PARK_TRYING_MS;
  for (let tries = 0; deps.now() < giveUpAt; tries += 1) {
    const delayMs =
      reason === 'redis'
        ? deps.trouble.backoffMs()
        : Math.max(deps.trouble.backoffMs(), Math.round(UNEXPECTED_RETRY_MS * (0.5 + Math.random() / 2)));
    try {
      await job.moveToDelayed(deps.now() + delayMs, token);
      log.debug({ delayMs, reason }, "parked after an error that is not the job's own");
      return PARKED;
    } catch (moveError) {
      if (!deps.trouble.record(moveError, 'park')) {
        // Not Redis trouble: most likely the lock is gone (another worker has the job). Nothing to do.
        log.debug({ err: moveError }, 'could not park the job after trouble; leaving it to BullMQ');
        return PARKED;
      }
      await sleep(Math.min(MAX_PARK_RETRY_MS, PARK_RETRY_MS * 2 ** tries));
    }
  }
  log.warn("Redis kept refusing to park the job; BullMQ's stalled check will put it back");
  return PARKED;
}
