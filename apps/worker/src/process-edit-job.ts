import type { WorkerMetrics } from '@runflow-queue/metrics';
import type { EditNotifier } from '@runflow-queue/notifier';
import { EditJobData, type EditResult, formatFieldIssues, getModel, toFieldIssues } from '@runflow-queue/shared';
import { DelayedError, UnrecoverableError } from 'bullmq';
import { inflightMember } from './admit-job.ts';
import { failJob } from './job-failure.ts';
import { jobLogger } from './job-log.ts';
import { isTroubleNotTheJobs, parkAfterTrouble } from './park-after-trouble.ts';
import type { EditJob } from './park-job.ts';
import type { RedisTrouble } from './redis-trouble.ts';
import { type EditJobDeps, PARKED, runSteps, type SavedData } from './run-steps.ts';

/** Re-validates job data on dequeue: Redis may hold jobs written by an earlier deploy. */
export function revalidate(job: EditJob): EditJobData {
  const raw = { step: 'queued', enqueuedAt: job.timestamp, ...(job.data as object) };
  const parsed = EditJobData.safeParse(raw);
  if (!parsed.success) {
    throw failJob('INVALID_JOB_DATA', formatFieldIssues(toFieldIssues(parsed.error, raw, 'data')));
  }
  const data = parsed.data;
  // The input matters before money moves; once a run exists, a job is never failed over its input.
  if (data.step === 'submitted') return data;
  const input = getModel(data.model).inputSchema.safeParse(data.input);
  if (!input.success) {
    throw failJob('INVALID_JOB_DATA', formatFieldIssues(toFieldIssues(input.error, data.input, 'data.input')));
  }
  return data;
}

/** How an attempt ended, decided once: the processor, the notifier and the logs all follow it. */
export type AttemptOutcome = 'parked' | 'final' | 'retry';

/**
 * Parked (the job moved itself to delayed), final (coded failure, or an unexpected error on its last
 * allowed attempt: the queue's `attempts` and the job's own, whichever is lower), or retried by BullMQ.
 */
export function attemptOutcome(error: unknown, attemptsMade: number, allowedAttempts: number): AttemptOutcome {
  if (error instanceof DelayedError) return 'parked';
  if (error instanceof UnrecoverableError) return 'final';
  return attemptsMade + 1 >= allowedAttempts ? 'final' : 'retry';
}

/**
 * The BullMQ processor: one call per wake-up of the job. One outcome block: a job that ends here —
 * completed, or failed for good — gives back its budget reservation and in-flight slot and gets its
 * webhook (enqueued before BullMQ records the end, so a worker that dies in between runs the step
 * again and the deterministic notification id keeps it to one delivery).
 */
export function createEditProcessor(
  deps: EditJobDeps & { notifier?: EditNotifier; trouble: RedisTrouble; metrics?: WorkerMetrics },
) {
  return async (job: EditJob, token?: string): Promise<EditResult> => {
    let saved: SavedData | undefined;
    try {
      saved = { data: revalidate(job) };
      const result = await runSteps(job, token ?? '', saved, deps);
      deps.trouble.clear();
      await releaseHolds(deps, job, saved.data);
      await deps.notifier?.editFinished(deps.queue, job, { result });
      return result;
    } catch (error) {
      if (error === PARKED) deps.trouble.clear();
      if (error instanceof DelayedError) throw error;
      // Invariant 9: Redis trouble, or any unexpected error once a run may exist, parks and retries the
      // job without using an attempt (attempts are for the job's own errors before it has a run).
      if (!(error instanceof UnrecoverableError) && isTroubleNotTheJobs(error, saved?.data ?? job.data)) {
        throw await parkAfterTrouble(job, token ?? '', error, deps);
      }
      const allowed = Math.min(deps.governance.workload.attempts, job.opts.attempts ?? 1);
      const outcome = attemptOutcome(error, job.attemptsMade, allowed);
      if (outcome !== 'final') throw error;
      const ending = error instanceof UnrecoverableError ? error : exhausted(deps, job, saved?.data, error);
      if (saved) {
        await releaseHolds(deps, job, saved.data).catch((releaseError: unknown) =>
          deps.logger.error(
            { err: releaseError, queue: deps.queue, jobId: job.id },
            'could not release budget reservation / in-flight slot',
          ),
        );
      }
      await deps.notifier?.editFinished(deps.queue, job, { failedReason: ending.message });
      throw ending;
    }
  };
}

function exhausted(deps: EditJobDeps, job: EditJob, data: EditJobData | undefined, error: unknown): UnrecoverableError {
  const message = error instanceof Error ? error.message : String(error);
  const log = data ? jobLogger(deps.logger, deps.queue, job.id, data) : deps.logger;
  log.error({ err: error, attemptsMade: job.attemptsMade + 1 }, 'unexpected error on the last attempt');
  return failJob('ATTEMPTS_EXHAUSTED', `${job.attemptsMade + 1} attempt(s) failed; last: ${message}`);
}

/** Gives back what a job held (budget reservation, in-flight slot) when it ends. Idempotent. */
async function releaseHolds(deps: EditJobDeps, job: EditJob, data: EditJobData): Promise<void> {
  const jobId = job.id as string;
  const tasks: Promise<unknown>[] = [];
  if (data.reservation) tasks.push(deps.governance.budgets.release(deps.queue, jobId, data.reservation));
  tasks.push(deps.governance.inflight.release(data.model, inflightMember(deps.queue, jobId)));
  await Promise.all(tasks);
}
