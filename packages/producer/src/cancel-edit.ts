import type { EditJobData, EditResult, JobStep } from '@runflow-queue/shared';
import { abandonJob, type RedisClient } from '@runflow-queue/store';
import type { Queue } from 'bullmq';

/**
 * What cancelEdit did:
 * - `removed`: not yet submitted; the job is gone, no run was created, nothing was spent.
 * - `abandoned`: already submitted to Runflow, which has no public cancel: the run finishes and is
 *   paid for; its spend lands in the ledger and the job fails `JOB_ABANDONED` when the run ends.
 * - `already_finished`: the job had completed or failed; nothing changed.
 * - `not_found`: no such job (never enqueued, removed, or past its retention window).
 * - `busy`: a worker held the job for the whole wait (submitting or finalizing); nothing changed.
 */
export type CancelOutcome = 'removed' | 'abandoned' | 'already_finished' | 'not_found' | 'busy';

export interface CancelResult {
  id: string;
  queue: string;
  outcome: CancelOutcome;
  /** The job's step when it was cancelled (absent for not_found). */
  step?: JobStep | undefined;
  /** The Runflow run that goes on (abandoned) or that ran (already_finished). */
  runId?: string | undefined;
  /** For already_finished: `completed` or `failed`. */
  state?: string | undefined;
  /** One sentence a person can act on. */
  message: string;
}

export interface CancelOptions {
  /** How long to wait for a worker to let go of an active job before answering `busy` (default 10 s). */
  waitActiveMs?: number;
}

/** How often an active job is looked at again while cancelEdit waits for the worker to let go. */
const ACTIVE_POLL_MS = 100;

/**
 * Cancels an edit job honestly. A job not yet submitted (step `queued`, no worker holding it) is
 * removed. A submitted job cannot be stopped — Runflow has no public cancel — so it is marked
 * abandoned: the worker still waits for the run and settles its spend, then fails the job
 * JOB_ABANDONED instead of completing it. A job a worker holds right now is waited for (it is
 * submitting or finalizing, which takes seconds) and then judged by its step.
 */
export async function cancelJob(
  redis: RedisClient,
  queue: Queue<EditJobData, EditResult>,
  queueName: string,
  jobId: string,
  options: CancelOptions = {},
): Promise<CancelResult> {
  const base = { id: jobId, queue: queueName };
  const deadline = Date.now() + (options.waitActiveMs ?? 10_000);
  for (;;) {
    const answer = await abandonJob(redis, queue, jobId, Date.now());
    if (answer === 'missing') {
      return { ...base, outcome: 'not_found', message: `no job ${jobId} in queue ${queueName}` };
    }
    if (answer === 'finished') {
      const job = await queue.getJob(jobId);
      const state = job ? await job.getState() : 'unknown';
      return {
        ...base,
        outcome: 'already_finished',
        state,
        step: job?.data.step,
        runId: job?.data.runId,
        message: `job ${jobId} already ${state}; there is nothing to cancel`,
      };
    }
    if (answer === 'active') {
      if (Date.now() >= deadline) {
        return {
          ...base,
          outcome: 'busy',
          message: `a worker is holding job ${jobId} right now (submitting or finalizing); cancel again in a few seconds`,
        };
      }
      await new Promise((resolve) => setTimeout(resolve, ACTIVE_POLL_MS));
      continue;
    }
    const step: JobStep = answer;
    if (step === 'queued') {
      // Marked first, so a worker that takes the job between the mark and this remove still knows.
      const job = await queue.getJob(jobId);
      if (!job) return { ...base, outcome: 'not_found', message: `no job ${jobId} in queue ${queueName}` };
      try {
        await job.remove();
        return {
          ...base,
          outcome: 'removed',
          step,
          message: `job ${jobId} was not yet submitted: removed; no run was created and nothing was spent`,
        };
      } catch {
        // A worker took it in between: it is active now; go round and judge it once it lets go.
        continue;
      }
    }
    const job = await queue.getJob(jobId);
    const runId = job?.data.runId;
    return {
      ...base,
      outcome: 'abandoned',
      step,
      runId,
      message:
        `job ${jobId} was already submitted to Runflow${runId ? ` (run ${runId})` : ''}, which has no public cancel: ` +
        'the run finishes and is paid for; its spend is settled into the ledger and the job then fails JOB_ABANDONED',
    };
  }
}
