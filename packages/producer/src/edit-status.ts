import { type EditJobData, type EditResult, failureCode, type JobStep } from '@runflow-queue/shared';
import type { Job } from 'bullmq';

/** What a caller sees of one edit job. */
export interface EditStatus {
  id: string;
  queue: string;
  /** BullMQ state; a parked job (waiting for its run) is `delayed` with step `submitted`. */
  state: string;
  step: JobStep | undefined;
  model: string;
  runId: string | undefined;
  enqueuedAt: number;
  finishedAt: number | undefined;
  result: EditResult | undefined;
  failure: { code: string | undefined; reason: string } | undefined;
}

export async function toEditStatus(queue: string, job: Job<EditJobData, EditResult>): Promise<EditStatus> {
  const state = await job.getState();
  return {
    id: job.id as string,
    queue,
    state,
    step: job.data.step,
    model: job.data.model,
    runId: job.data.runId,
    enqueuedAt: job.data.enqueuedAt ?? job.timestamp,
    finishedAt: job.finishedOn,
    result: state === 'completed' ? job.returnvalue : undefined,
    failure: state === 'failed' ? { code: failureCode(job.failedReason), reason: job.failedReason } : undefined,
  };
}
