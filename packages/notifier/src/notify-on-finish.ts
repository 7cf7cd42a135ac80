import type { EditJobData, EditResult } from '@runflow-queue/shared';
import type { Job } from 'bullmq';
import type { EditNotifier } from './edit-notifier.ts';

/** BullMQ's control-flow signals: the job moved (parked, waiting, rate-limited), it did not end. */
const SIGNALS = new Set(['DelayedError', 'WaitingError', 'WaitingChildrenError', 'RateLimitError']);

/** True when this error ends the job: unrecoverable, or the last of its attempts. */
export function isFinalFailure(job: Job, error: unknown): boolean {
  if (!(error instanceof Error) || SIGNALS.has(error.name)) return false;
  if (error.name === 'UnrecoverableError') return true;
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/**
 * Wraps an edit processor so a job that asked for a webhook gets one when it ends: completed (after
 * its spend is settled, with the result) or failed for good (with the code). The notification is
 * enqueued before the processor returns — before BullMQ records the end — so a worker that dies in
 * between runs the step again and the deterministic notification id keeps it to one delivery.
 */
export function notifyOnFinish<J extends Job<EditJobData, EditResult>, A extends unknown[]>(
  queue: string,
  processor: (job: J, ...rest: A) => Promise<EditResult>,
  notifier: EditNotifier | undefined,
): (job: J, ...rest: A) => Promise<EditResult> {
  if (!notifier) return processor;
  return async (job, ...rest) => {
    let result: EditResult;
    try {
      result = await processor(job, ...rest);
    } catch (error) {
      if (isFinalFailure(job, error)) {
        await notifier.editFinished(queue, job, { failedReason: (error as Error).message });
      }
      throw error;
    }
    await notifier.editFinished(queue, job, { result });
    return result;
  };
}
