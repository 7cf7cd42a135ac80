import {
  EditJobData,
  type EditResult,
  formatFieldIssues,
  getModel,
  isModelId,
  toFieldIssues,
} from '@runflow-queue/shared';
import { finalizeRun } from './finalize-run.ts';
import type { EditJob, EditJobDeps, JobContext } from './job-context.ts';
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
      log: deps.logger.child({
        queue: deps.queue,
        jobId: job.id,
        model: data.model,
        runId: data.runId,
        clientRef: data.clientRef,
      }),
    };
    switch (data.step) {
      case 'queued':
        return submitRun(ctx);
      case 'submitting':
        return resolveSubmitting(ctx);
      case 'submitted':
        return finalizeRun(ctx);
    }
  };
}
