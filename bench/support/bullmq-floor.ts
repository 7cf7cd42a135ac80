import { bullPrefix, moveToDelayedWith, promoteJob } from '@runflow-queue/store';
import { uniquePrefix } from '@runflow-queue/testkit';
import { DelayedError, type JobsOptions, MetricsTime, type Processor, Queue, Worker, type WorkerOptions } from 'bullmq';
import { Redis } from 'ioredis';

// BullMQ alone through the life an edit job has, nothing of ours: added with a priority, fetched,
// parked with moveToDelayed (its data and priority saved with the move, as our park does), promoted
// from outside (as callback-ingest does when the callback lands), fetched again and completed — with
// the worker and job options our worker and producer use. What Redis does for that is the floor under
// any job of the pipeline: the redis-cost scenario counts it in the same run, beside the pipeline's.
// `bare`: the same life with none of those options (no priority, metrics, limiter or age-based
// removal) — what parking and waking a job costs BullMQ whatever a pipeline chooses.

export interface FloorJobs {
  completed: number;
}

/** The worker options of the floor: our worker's (metrics kept a week, a limiter for the manual rate limit). */
export const FLOOR_WORKER_OPTIONS = {
  metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
  limiter: { max: 1_000_000, duration: 1_000 },
} satisfies Partial<WorkerOptions>;

/** The job options of the floor: our producer's (a priority, attempts, kept a day once completed). */
export const FLOOR_JOB_OPTIONS = {
  priority: 1000,
  attempts: 3,
  removeOnComplete: { age: 86_400 },
} satisfies JobsOptions;

/**
 * The floor's processor: the first time it parks the job with its data and priority saved, and has
 * `promoter` promote it (as ingest does when the callback lands); woken, the job completes.
 */
export function floorProcessor(promoter: Queue): Processor {
  return async (job, token) => {
    if (job.data.parked) return { ok: true };
    await moveToDelayedWith(job, Date.now() + 600_000, token as string, {
      data: { ...job.data, parked: true },
      priority: 0,
    });
    setImmediate(() => void promoteJob(promoter, job.id as string));
    throw new DelayedError();
  };
}

export async function runBullmqFloor(
  redisUrl: string,
  jobs: number,
  concurrency: number,
  options: { bare?: boolean } = {},
): Promise<FloorJobs> {
  const ours = !options.bare;
  const prefix = uniquePrefix('floor');
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('floor', { connection, prefix: bullPrefix(prefix, 'floor') });
  let completed = 0;
  const done = Promise.withResolvers<void>();
  // The promote goes through the queue's client, not the worker's (ingest is a separate process).
  const worker = new Worker('floor', floorProcessor(queue), {
    connection,
    prefix: bullPrefix(prefix, 'floor'),
    concurrency,
    ...(ours ? FLOOR_WORKER_OPTIONS : {}),
  });
  worker.on('completed', () => {
    completed += 1;
    if (completed >= jobs) done.resolve();
  });
  try {
    await queue.addBulk(
      Array.from({ length: jobs }, (_, i) => ({
        name: 'edit',
        data: { step: 'queued', i },
        opts: ours ? FLOOR_JOB_OPTIONS : { attempts: 3 },
      })),
    );
    await done.promise;
    return { completed };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    connection.disconnect();
  }
}
