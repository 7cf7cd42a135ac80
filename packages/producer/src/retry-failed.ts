import {
  type EditJobData,
  type EditResult,
  failureCode,
  isSuccessStatus,
  isTerminalStatus,
  type SubmittedJobData,
} from '@runflow-queue/shared';
import type { Job, Queue } from 'bullmq';

export interface RetryFailedOptions {
  /** Only jobs whose failure code is this one (e.g. RUNFLOW_RETRIES_EXHAUSTED). */
  code?: string;
  /** At most this many jobs looked at (default 1000). */
  limit?: number;
  /** Report what would be done; change nothing. */
  dryRun?: boolean;
  /**
   * Looks a run up on Runflow: its status, or undefined when Runflow answers that it does not exist.
   * Without it, a job whose run's outcome is not known from its failure is skipped, never resubmitted.
   */
  lookUpRun?: (runId: string) => Promise<{ status: string } | undefined>;
  /** Submit a new run for a job whose run Runflow cannot find (it may bill twice if the run exists). */
  force?: boolean;
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
};

/** Failure codes that are the run's own terminal outcome: the worker saw the run end without outputs. */
const RUN_ENDED = new Set(['RUN_FAILED', 'RUN_CANCELLED']);

type Plan = { kind: 'skip'; note: string } | { kind: 'resubmit'; note: string } | { kind: 'keep'; note: string };

/** Fresh data for a new submit: what the caller asked for, nothing of the previous run. */
function resubmitData(data: EditJobData): EditJobData {
  return {
    model: data.model,
    input: data.input,
    ...(data.tags ? { tags: data.tags } : {}),
    ...(data.requestHash ? { requestHash: data.requestHash } : {}),
    ...(data.notifyUrl ? { notifyUrl: data.notifyUrl } : {}),
    ...(data.caller ? { caller: data.caller } : {}),
    enqueuedAt: data.enqueuedAt,
    step: 'queued',
    manualRetries: (data.manualRetries ?? 0) + 1,
  };
}

/**
 * What a retry does with one failed job. Nothing is paid twice: a job that has a run is resubmitted
 * only when that run ended without outputs; a run that succeeded or is still going is adopted (the
 * worker polls it, settles it once and completes the job); a run Runflow cannot find is left alone
 * unless forced.
 */
async function plan(job: Job<EditJobData, EditResult>, options: RetryFailedOptions): Promise<Plan> {
  const code = failureCode(job.failedReason);
  if (code && NOT_RETRYABLE[code]) return { kind: 'skip', note: NOT_RETRYABLE[code] };
  const { data } = job;
  if (data.step === 'submitting') {
    return { kind: 'keep', note: 'same clientRef: the worker adopts the ambiguous run before it resubmits' };
  }
  if (data.step === 'queued') return { kind: 'resubmit', note: 'no run was created; submits again' };
  const { runId } = data;
  if (!options.lookUpRun) {
    if (code && RUN_ENDED.has(code)) return { kind: 'resubmit', note: `new run (run ${runId} ended ${code})` };
    return {
      kind: 'skip',
      note: `run ${runId} may have finished and billed; set RUNFLOW_API_KEY (and RUNFLOW_BASE_URL) to look it up`,
    };
  }
  let run: { status: string } | undefined;
  try {
    run = await options.lookUpRun(runId);
  } catch (error) {
    return { kind: 'skip', note: `could not look up run ${runId}: ${(error as Error).message}; try again later` };
  }
  if (!run) {
    return options.force
      ? { kind: 'resubmit', note: `new run (run ${runId} not found on Runflow; --force)` }
      : { kind: 'skip', note: `run ${runId} not found on Runflow; left alone (--force submits a new run)` };
  }
  if (isSuccessStatus(run.status)) {
    return { kind: 'keep', note: `adopts run ${runId} (${run.status}): completes with its outputs, settled once` };
  }
  if (isTerminalStatus(run.status)) return { kind: 'resubmit', note: `new run (run ${runId} ended ${run.status})` };
  return { kind: 'keep', note: `waits for run ${runId} (${run.status}) instead of paying for a second` };
}

/**
 * A failed job's data to wait on its run again: a fresh poll schedule and a deadline as long as the
 * first one, from now (a run is not declared dead twice for the same wait).
 */
function adoptData(data: SubmittedJobData, now: number): SubmittedJobData {
  const window =
    data.deadlineAt !== undefined && data.submittedAt !== undefined ? data.deadlineAt - data.submittedAt : 0;
  return {
    ...data,
    polls: 0,
    deadlineAt: now + Math.max(window, 60_000),
    manualRetries: (data.manualRetries ?? 0) + 1,
  };
}

/**
 * Retries failed edit jobs, optionally only those failed with `code` (see `plan` for what each gets);
 * failures a retry cannot fix are skipped with the reason.
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
    const decision = await plan(job, options);
    const row = { id: job.id as string, model: job.data.model, code: failureCode(job.failedReason) };
    if (decision.kind === 'skip') {
      outcomes.push({ ...row, action: 'skipped', note: decision.note });
      continue;
    }
    if (options.dryRun) {
      outcomes.push({ ...row, action: 'would retry', note: decision.note });
      continue;
    }
    const { data } = job;
    if (decision.kind === 'resubmit') await job.updateData(resubmitData(data));
    else if (data.step === 'submitted') await job.updateData(adoptData(data, Date.now()));
    else await job.updateData({ ...data, manualRetries: (data.manualRetries ?? 0) + 1 });
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    outcomes.push({ ...row, action: 'retried', note: decision.note });
  }
  return outcomes;
}
