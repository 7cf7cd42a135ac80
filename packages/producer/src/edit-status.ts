import { type EditJobData, type EditResult, failureCode, type JobStep, type JobTags } from '@runflow-queue/shared';
import type { Job } from 'bullmq';
import { jobOwner } from './job-owner.ts';

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
  /** Priority while waiting to submit (1 runs first; default 1000); undefined once it has a run (priority 0). */
  priority: number | undefined;
  tags: JobTags | undefined;
  /** The named caller that enqueued the job (`default` when it records none). */
  caller: string;
  notifyUrl: string | undefined;
  /** Cancelled after submit: the run goes on and is paid for; the job fails JOB_ABANDONED. */
  abandoned: boolean;
  result: EditResult | undefined;
  failure: { code: string | undefined; reason: string } | undefined;
}

/**
 * The caller's view of a job. Pass the state read BEFORE the job: a job read first and a state read
 * second can pair "completed" with the data of a moment earlier, when it had no result yet.
 */
export function toEditStatus(queue: string, job: Job<EditJobData, EditResult>, state: string): EditStatus {
  return {
    id: job.id as string,
    queue,
    state,
    step: job.data.step,
    model: job.data.model,
    runId: job.data.runId,
    enqueuedAt: job.data.enqueuedAt ?? job.timestamp,
    finishedAt: job.finishedOn,
    priority: job.opts.priority || undefined,
    tags: job.data.tags,
    caller: jobOwner(job.data),
    notifyUrl: job.data.notifyUrl,
    abandoned: job.data.abandoned === true,
    result: state === 'completed' ? job.returnvalue : undefined,
    failure: state === 'failed' ? { code: failureCode(job.failedReason), reason: job.failedReason } : undefined,
  };
}
