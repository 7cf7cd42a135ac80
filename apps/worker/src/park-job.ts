import type { EditJobData, EditResult } from '@runflow-queue/shared';
import { moveToDelayedWith, type ParkFields } from '@runflow-queue/store';
import type { Job } from 'bullmq';
import type { StepDeps } from './step-context.ts';

export type EditJob = Job<EditJobData, EditResult>;

/** Test seams: awaited at fixed points of the lifecycle so tests can force an ordering. */
export interface LifecycleHooks {
  /**
   * Just before the job parks with moveToDelayed (after submit, or between polls). `data` is what the
   * park saves: it is written with the move, in the same script, so in Redis the job still has its
   * previous data here.
   */
  beforePark?: (job: EditJob, data: EditJobData) => Promise<void>;
}

/**
 * Parks the job until `wakeAt` without holding a worker slot: moveToDelayed (saving `fields` — the
 * job's new data, its priority — in the same script), THEN look for a result that arrived meanwhile
 * and promote the job ourselves. Ingest stores before it promotes, so a callback landing on either
 * side of moveToDelayed wakes the job.
 */
export async function parkJob(
  job: EditJob,
  token: string,
  data: EditJobData,
  wakeAt: number,
  deps: StepDeps & { hooks?: LifecycleHooks },
  fields: ParkFields<EditJobData> = {},
): Promise<'parked' | 'promoted'> {
  await deps.hooks?.beforePark?.(job, data);
  await moveToDelayedWith(job, wakeAt, token, fields);
  if (!(await resultWaiting(data, deps))) return 'parked';
  await job.promote().catch(() => {
    // Someone else (ingest) promoted it first: the job is already waiting.
  });
  return 'promoted';
}

function resultWaiting(data: EditJobData, deps: StepDeps): Promise<boolean> | boolean {
  if (data.step === 'submitted') return deps.inbox.has(deps.queue, data.runId);
  if (data.step === 'submitting') {
    return deps.inbox.runForClientRef(deps.queue, data.clientRef).then((runId) => runId !== undefined);
  }
  return false;
}
