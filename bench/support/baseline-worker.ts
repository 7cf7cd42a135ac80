import { createRunflowClient } from '@runflow-queue/runflow-client';
import { isTerminalStatus, type ModelId } from '@runflow-queue/shared';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

// The baselines our pipeline is measured against, as a process of its own:
//  raw   — BullMQ with a no-op processor: the ceiling any pipeline on BullMQ can reach.
//  naive — the straightforward worker: create the run, then poll it every 2 s inside the processor
//          (as the official SDK does), holding its slot for the run's whole life.
// Env: MODE (raw|naive), REDIS_URL, PREFIX, QUEUE, CONCURRENCY, RUNFLOW_BASE_URL, RUNFLOW_API_KEY.

const env = process.env;
const connection = new Redis(env.REDIS_URL as string, { maxRetriesPerRequest: null });
const client =
  env.MODE === 'naive'
    ? createRunflowClient({ baseUrl: env.RUNFLOW_BASE_URL as string, apiKey: env.RUNFLOW_API_KEY as string })
    : undefined;

const POLL_MS = 2_000;

const worker = new Worker(
  env.QUEUE as string,
  async (job) => {
    if (!client) return { ok: true };
    const run = await client.createRun(job.data.model as ModelId, { input: job.data.input });
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const current = await client.getRun(run.id);
      if (isTerminalStatus(current.status_code)) return { runId: run.id, status: current.status_code };
    }
  },
  { connection, prefix: env.PREFIX, concurrency: Number(env.CONCURRENCY ?? 16) },
);
worker.on('error', () => {});
await worker.waitUntilReady();
process.stdout.write('baseline worker ready\n');
process.on('SIGTERM', async () => {
  await worker.close();
  await client?.close();
  connection.disconnect();
  process.exit(0);
});
