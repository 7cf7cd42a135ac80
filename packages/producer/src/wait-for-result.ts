import { type EditJobData, type EditResult, failureCode, RunflowQueueError } from '@runflow-queue/shared';
import type { Job, Queue, QueueEvents } from 'bullmq';

/** How often the fallback poll looks at the job while we also listen for its event. */
const POLL_INTERVAL_MS = 1_000;

export class EditFailedError extends Error {
  readonly code: string;
  constructor(failedReason: string) {
    super(failedReason);
    this.name = 'EditFailedError';
    this.code = failureCode(failedReason) ?? 'UNKNOWN';
  }
}

function removedError(id: string): RunflowQueueError {
  return new RunflowQueueError('JOB_NOT_FOUND', `job ${id} is gone: removed (cancelled before submit)`);
}

/**
 * Waits for a job's result through QueueEvents, with a slow poll beside it: a QueueEvents that has
 * just started reading its stream can miss an event emitted before its first XREAD (seen with BullMQ
 * 6), and a missed event must cost a second, not the whole timeout.
 */
export async function waitForJob(
  queue: Queue<EditJobData, EditResult>,
  job: Job<EditJobData, EditResult>,
  events: QueueEvents,
  timeoutMs: number,
): Promise<EditResult> {
  const controller = new AbortController();
  const poll = (async (): Promise<EditResult> => {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS).unref());
      if (controller.signal.aborted) return new Promise<EditResult>(() => {});
      const state = await job.getState().catch(() => 'error');
      if (state === 'unknown') {
        throw removedError(job.id as string);
      }
      if (state === 'completed' || state === 'failed') {
        const fresh = await queue.getJob(job.id as string);
        if (state === 'failed') throw new EditFailedError(fresh?.failedReason ?? 'failed');
        return fresh?.returnvalue as EditResult;
      }
    }
  })();
  try {
    return await Promise.race([
      job.waitUntilFinished(events, timeoutMs).catch((error: Error) => {
        if (error.message.includes('timed out before finishing')) {
          throw new RunflowQueueError('WAIT_TIMEOUT', `job ${job.id} did not finish within ${timeoutMs} ms`);
        }
        if (error.message.startsWith('Missing key for job')) throw removedError(job.id as string);
        throw new EditFailedError(error.message);
      }),
      poll,
    ]);
  } finally {
    controller.abort();
  }
}
