import { createRunflowClient } from '@runflow-queue/runflow-client';
import { isTerminalStatus, type ModelId } from '@runflow-queue/shared';
import { moveToDelayedWith, promoteJob } from '@runflow-queue/store';
import { DelayedError, MetricsTime, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

// The baselines our pipeline is measured against, as a process of its own:
//  raw   — BullMQ with a no-op processor: the ceiling any pipeline on BullMQ can reach.
//  floor — BullMQ through the life an edit job has, nothing of ours: fetched, parked with its data
//          saved (moveToDelayed), promoted from another connection (as callback-ingest does when the
//          callback lands), fetched again, completed; with our worker's options (metrics, limiter).
//          The ceiling a pipeline that parks its jobs on BullMQ can reach (bench/support/bullmq-floor.ts
//          is the same life, counted command by command in redis-cost).
//  naive — the straightforward worker: create the run, then poll it every 2 s inside the processor
//          (as the official SDK does), holding its slot for the run's whole life.
// Env: MODE (raw|floor|naive), REDIS_URL, PREFIX, QUEUE, CONCURRENCY, RUNFLOW_BASE_URL, RUNFLOW_API_KEY.

const env = process.env;
const connection = new Redis(env.REDIS_URL as string, { maxRetriesPerRequest: null });
const client =
  env.MODE === 'naive'
    ? createRunflowClient({ baseUrl: env.RUNFLOW_BASE_URL as string, apiKey: env.RUNFLOW_API_KEY as string })
    : undefined;

const POLL_MS = 2_000;
const floor = env.MODE === 'floor';
// The floor's promoter: a connection of its own, as ingest is a process of its own.
const promoter = floor
  ? new Queue(env.QUEUE as string, { connection: new Redis(env.REDIS_URL as string), prefix: env.PREFIX })
  : undefined;

const worker = new Worker(
  env.QUEUE as string,
  async (job, token) => {
    if (promoter && !job.data.parked) {
      await moveToDelayedWith(job, Date.now() + 600_000, token as string, {
        data: { ...job.data, parked: true },
        priority: 0,
      });
      setImmediate(() => void promoteJob(promoter, job.id as string));
      throw new DelayedError();
    }
    if (!client) return { ok: true };
    const run = await client.createRun(job.data.model as ModelId, { input: job.data.input });
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const current = await client.getRun(run.id);
      if (isTerminalStatus(current.status_code)) return { runId: run.id, status: current.status_code };
    }
  },
  {
    connection,
    prefix: env.PREFIX,
    concurrency: Number(env.CONCURRENCY ?? 16),
    ...(floor
      ? { metrics: { maxDataPoints: MetricsTime.ONE_WEEK }, limiter: { max: 1_000_000, duration: 1_000 } }
      : {}),
  },
);
worker.on('error', () => {});
await worker.waitUntilReady();
process.stdout.write('baseline worker ready\n');
process.on('SIGTERM', async () => {
  await worker.close();
  await client?.close();
  await promoter?.close();
  connection.disconnect();
  process.exit(0);
});
