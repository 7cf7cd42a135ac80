import {
  EditJobData,
  type EditResult,
  formatFieldIssues,
  getModel,
  isModelId,
  toFieldIssues,
} from '@runflow-queue/shared';
import { DelayedError, UnrecoverableError } from 'bullmq';
import { admitJob, releaseHolds } from './admit-job.ts';
import { finalizeRun } from './finalize-run.ts';
import { type EditJob, type EditJobDeps, type JobContext, jobLogger } from './job-context.ts';
import { failJob } from './job-failure.ts';
import { resolveSubmitting, submitRun } from './submit-run.ts';

/** Re-validates job data on dequeue: Redis may hold jobs written by an earlier deploy. */
export function revalidate(job: EditJob): EditJobData {
  const raw = { step: 'queued', enqueuedAt: job.timestamp, ...(job.data as object) };
  const parsed = EditJobData.safeParse(raw);
  if (!parsed.success) {
    throw failJob('INVALID_JOB_DATA', formatFieldIssues(toFieldIssues(parsed.error, raw, 'data')));
  }
  const data = parsed.data;
  if (!isModelId(data.model)) throw failJob('INVALID_JOB_DATA', `data.model: unknown model ${data.model}`);
  // The input matters before money moves; once a run exists, a job is never failed over its input.
  if (data.step === 'submitted') return data;
  const input = getModel(data.model).inputSchema.safeParse(data.input);
  if (!input.success) {
    throw failJob('INVALID_JOB_DATA', formatFieldIssues(toFieldIssues(input.error, data.input, 'data.input')));
  }
  return data;
}

/** The BullMQ processor: one call per wake-up of the job, dispatched on its step. */
export function createEditProcessor(deps: EditJobDeps) {
  return async (job: EditJob, token?: string): Promise<EditResult> => {
    const data = revalidate(job);
    const ctx: JobContext = {
      job,
      token: token as string,
      data,
      deps,
      log: jobLogger(deps, job, data),
    };
    try {
      const result = await advance(ctx);
      await releaseHolds(ctx);
      return result;
    } catch (error) {
      throw await onError(ctx, error);
    }
  };
}

async function advance(ctx: JobContext): Promise<EditResult> {
  switch (ctx.data.step) {
    case 'queued':
      // Cancelled between the caller's mark and its removal: nothing was submitted, nothing is paid.
      if (ctx.data.abandoned) throw failJob('JOB_ABANDONED', 'cancelled by the caller before submit');
      await admitJob(ctx);
      return submitRun(ctx);
    case 'submitting':
      return resolveSubmitting(ctx);
    case 'submitted':
      return finalizeRun(ctx);
  }
}

/**
 * The park signal passes through. A job that ends here (coded failure, or an unexpected
 * error on its last allowed attempt) gives back its budget reservation and in-flight slot.
 */
async function onError(ctx: JobContext, error: unknown): Promise<unknown> {
  if (error instanceof DelayedError) {
    return error;
  }
  const { job, deps } = ctx;
  const allowed = Math.min(deps.governance.workload.attempts, job.opts.attempts ?? 1);
  const final = error instanceof UnrecoverableError || job.attemptsMade + 1 >= allowed;
  if (!final) return error;
  await releaseHolds(ctx).catch((releaseError: unknown) =>
    ctx.log.error({ err: releaseError }, 'could not release budget reservation / in-flight slot'),
  );
  if (error instanceof UnrecoverableError) return error;
  const message = error instanceof Error ? error.message : String(error);
  ctx.log.error({ err: error, attemptsMade: job.attemptsMade + 1 }, 'unexpected error on the last attempt');
  return failJob('ATTEMPTS_EXHAUSTED', `${job.attemptsMade + 1} attempt(s) failed; last: ${message}`);
}
