import { bullPrefix, moveToDelayedWith, promoteJob } from '@runflow-queue/store';
import { uniquePrefix } from '@runflow-queue/testkit';
import { DelayedError, MetricsTime, Queue, Worker } from 'bullmq';
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
  const worker = new Worker(
    'floor',
    async (job, token) => {
      if (job.data.parked) return { ok: true };
      await moveToDelayedWith(job, Date.now() + 600_000, token as string, {
        data: { ...job.data, parked: true },
        priority: 0,
      });
      // The callback lands: ingest promotes the job (a separate client, as ingest is a separate process).
      setImmediate(() => void promoteJob(queue, job.id as string));
      throw new DelayedError();
    },
    {
      connection,
      prefix: bullPrefix(prefix, 'floor'),
      concurrency,
      ...(ours
        ? { metrics: { maxDataPoints: MetricsTime.ONE_WEEK }, limiter: { max: 1_000_000, duration: 1_000 } }
        : {}),
    },
  );
  worker.on('completed', () => {
    completed += 1;
    if (completed >= jobs) done.resolve();
  });
  try {
    await queue.addBulk(
      Array.from({ length: jobs }, (_, i) => ({
        name: 'edit',
        data: { step: 'queued', i },
        opts: ours ? { priority: 1000, attempts: 3, removeOnComplete: { age: 86_400 } } : { attempts: 3 },
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
