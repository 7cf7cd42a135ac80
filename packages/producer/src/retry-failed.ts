import { type EditJobData, type EditResult, failureCode } from '@runflow-queue/shared';
import type { Job, Queue } from 'bullmq';

export interface RetryFailedOptions {
  /** Only jobs whose failure code is this one (e.g. RUNFLOW_RETRIES_EXHAUSTED). */
  code?: string;
  /** At most this many jobs looked at (default 1000). */
  limit?: number;
  /** Report what would be done; change nothing. */
  dryRun?: boolean;
}

export interface RetryOutcome {
  id: string;
  model: string;
  code: string | undefined;
  action: 'retried' | 'skipped' | 'would retry';
  note: string;
}

/** Codes a retry cannot fix: the same data fails the same way. */
const NOT_RETRYABLE: Record<string, string> = {
  INVALID_JOB_DATA: 'the job data is invalid; a retry fails the same way',
  INVALID_INPUT: 'the input is invalid; a retry fails the same way',
  UNKNOWN_MODEL: 'the model is unknown; a retry fails the same way',
  JOB_ABANDONED: 'the caller cancelled it; enqueue a new edit if it is still wanted',
  RUN_DEADLINE_EXCEEDED:
    'its run may still finish and bill on Runflow; a retry would start a second run — look the run up first',
};

/** Fresh data for a new submit: what the caller asked for, nothing of the previous run. */
function resubmitData(data: EditJobData): EditJobData {
  return {
    model: data.model,
    input: data.input,
    ...(data.tags ? { tags: data.tags } : {}),
    ...(data.requestHash ? { requestHash: data.requestHash } : {}),
    ...(data.notifyUrl ? { notifyUrl: data.notifyUrl } : {}),
    enqueuedAt: data.enqueuedAt,
    step: 'queued',
    manualRetries: (data.manualRetries ?? 0) + 1,
  };
}

function plan(job: Job<EditJobData, EditResult>): { retry: false; note: string } | { retry: true; note: string } {
  const code = failureCode(job.failedReason);
  if (code && NOT_RETRYABLE[code]) return { retry: false, note: NOT_RETRYABLE[code] };
  if (job.data.step === 'submitting') {
    return { retry: true, note: 'same clientRef: the worker adopts the ambiguous run before it resubmits' };
  }
  if (job.data.step === 'submitted') return { retry: true, note: `new run (the previous run ${job.data.runId} ended)` };
  return { retry: true, note: 'no run was created; submits again' };
}

/**
 * Retries failed edit jobs, optionally only those failed with `code`. A job whose run ended is
 * resubmitted as a new run; a job whose submit was ambiguous keeps its clientRef so the worker adopts
 * that run rather than pay for a second; failures a retry cannot fix are skipped with the reason.
 */
export async function retryFailedJobs(
  queue: Queue<EditJobData, EditResult>,
  options: RetryFailedOptions = {},
): Promise<RetryOutcome[]> {
  const limit = options.limit ?? 1000;
  const page = 200;
  const candidates: Job<EditJobData, EditResult>[] = [];
  for (let start = 0; candidates.length < limit; start += page) {
    const jobs = await queue.getFailed(start, start + page - 1);
    if (jobs.length === 0) break;
    for (const job of jobs) {
      if (!job) continue;
      if (options.code && failureCode(job.failedReason) !== options.code) continue;
      candidates.push(job);
      if (candidates.length >= limit) break;
    }
  }
  const outcomes: RetryOutcome[] = [];
  for (const job of candidates) {
    const decision = plan(job);
    const row = { id: job.id as string, model: job.data.model, code: failureCode(job.failedReason) };
    if (!decision.retry) {
      outcomes.push({ ...row, action: 'skipped', note: decision.note });
      continue;
    }
    if (options.dryRun) {
      outcomes.push({ ...row, action: 'would retry', note: decision.note });
      continue;
    }
    if (job.data.step !== 'submitting') await job.updateData(resubmitData(job.data));
    else await job.updateData({ ...job.data, manualRetries: (job.data.manualRetries ?? 0) + 1 });
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    outcomes.push({ ...row, action: 'retried', note: decision.note });
  }
  return outcomes;
}
