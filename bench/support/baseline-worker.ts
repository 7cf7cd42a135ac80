import { createRunflowClient } from '@runflow-queue/runflow-client';
import { isTerminalStatus, type ModelId } from '@runflow-queue/shared';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { FLOOR_WORKER_OPTIONS, floorProcessor } from './bullmq-floor.ts';

// The baselines our pipeline is measured against, as a process of its own:
//  raw   — BullMQ with a no-op processor: the ceiling any pipeline on BullMQ can reach.
//  floor — BullMQ through the life an edit job has, nothing of ours: fetched, parked with its data
//          saved (moveToDelayed), promoted from another connection (as callback-ingest does when the
//          callback lands), fetched again, completed; with our worker's options (metrics, limiter).
//          The ceiling a pipeline that parks its jobs on BullMQ can reach (bullmq-floor.ts: the same
//          processor, run in-process and counted command by command by redis-cost).
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
// The floor's promoter: a connection of its own, as ingest is a process of its own.
const promoter =
  env.MODE === 'floor'
    ? new Queue(env.QUEUE as string, { connection: new Redis(env.REDIS_URL as string), prefix: env.PREFIX })
    : undefined;

// raw: no client, done at once; naive: create the run and poll it in the slot until it ends.
const rawOrNaive = async (job: Job) => {
  if (!client) return { ok: true };
  const run = await client.createRun(job.data.model as ModelId, { input: job.data.input });
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const current = await client.getRun(run.id);
    if (isTerminalStatus(current.status_code)) return { runId: run.id, status: current.status_code };
  }
};

const worker = new Worker(env.QUEUE as string, promoter ? floorProcessor(promoter) : rawOrNaive, {
  connection,
  prefix: env.PREFIX,
  concurrency: Number(env.CONCURRENCY ?? 16),
  ...(promoter ? FLOOR_WORKER_OPTIONS : {}),
});
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
