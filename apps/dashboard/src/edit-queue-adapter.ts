import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { JobStatus, QueueAdapterOptions } from '@bull-board/api/typings/app';
import type { EditProducer } from '@runflow-queue/producer';
import { EditValidationError, RunflowQueueError } from '@runflow-queue/shared';
import type { Job, Queue } from 'bullmq';
import { boardJob } from './board-job-request.ts';
import { redactSecrets } from './redact-secrets.ts';

/**
 * What the board shows as a job's progress: where the job is in its life (`data.step`) and its Runflow
 * run, from the job data the worker already keeps — no extra write on the worker's path. A progress
 * object the job reports itself (job.updateProgress) is kept and shown alongside.
 */
export function stepProgress(data: unknown, progress: unknown): unknown {
  if (data === null || typeof data !== 'object') return progress;
  const d = data as Record<string, unknown>;
  if (typeof d.step !== 'string') return progress;
  const own = progress !== null && typeof progress === 'object' ? progress : {};
  const at = (ms: unknown) => (typeof ms === 'number' ? new Date(ms).toISOString() : undefined);
  return {
    step: d.step,
    runId: d.runId ?? null,
    ...(d.clientRef ? { clientRef: d.clientRef } : {}),
    ...(typeof d.submittedAt === 'number' ? { submittedAt: at(d.submittedAt) } : {}),
    ...(typeof d.deadlineAt === 'number' ? { deadlineAt: at(d.deadlineAt) } : {}),
    ...(typeof d.polls === 'number' ? { polls: d.polls } : {}),
    ...own,
  };
}

function withStepProgress(job: Job): Job {
  const toJSON = job.toJSON.bind(job);
  job.toJSON = () => {
    const json = toJSON();
    return { ...json, progress: stepProgress(json.data, json.progress) as typeof json.progress };
  };
  return job;
}

/**
 * Bull Board's BullMQ adapter for an edit queue: progress shows the step and run id, what the board
 * displays of data and results has its secrets redacted (the jobs themselves are untouched), and Add
 * job enqueues through the producer — validated, caller fields only, step `queued`, no run.
 */
export class EditQueueAdapter extends BullMQAdapter {
  readonly #queue: Queue;
  readonly #producer: EditProducer | undefined;

  constructor(queue: Queue, options: Partial<QueueAdapterOptions> & { producer?: EditProducer } = {}) {
    const { producer, ...adapterOptions } = options;
    super(queue, adapterOptions);
    this.#queue = queue;
    this.#producer = producer;
    this.setFormatter('data', (data) => redactSecrets(data));
    this.setFormatter('returnValue', (value) => redactSecrets(value));
    // The list shows "edit · submitted · run_…" instead of a bare job name.
    this.setFormatter('name', (job: { name?: string; data?: { step?: string; runId?: string } }) =>
      [job.name || 'edit', job.data?.step, job.data?.runId].filter(Boolean).join(' · '),
    );
  }

  /** Never BullMQ's add with the form's data and options as given: the producer's enqueue, or nothing. */
  override async addJob(_name: string, data: unknown, options: unknown): Promise<Job> {
    if (!this.#producer) throw new RunflowQueueError('ACTION_DISABLED', 'adding jobs is not configured here');
    const job = boardJob(this.#producer, { data, options });
    if ('issues' in job) throw new EditValidationError(job.issues, 'board job');
    const handle = await this.#producer.enqueueEdit(this.#queue.name, job.request, job.options);
    const added = await this.#queue.getJob(handle.id);
    if (!added) throw new RunflowQueueError('JOB_NOT_FOUND', `job ${handle.id} vanished right after it was added`);
    return added;
  }

  override async getJob(id: string): Promise<Job | undefined> {
    const job = await super.getJob(id);
    return job ? withStepProgress(job) : job;
  }

  override async getJobs(jobStatuses: JobStatus[], start?: number, end?: number): Promise<Job[]> {
    return (await super.getJobs(jobStatuses, start, end)).map(withStepProgress);
  }
}
