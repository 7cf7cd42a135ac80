import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnScript } from '@runflow-queue/runtime';
import { uniquePrefix } from '@runflow-queue/testkit';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

const MAIN = fileURLToPath(new URL('./baseline-worker.ts', import.meta.url));

export interface BaselineRun {
  jobs: number;
  wallMs: number;
  /** Steady state: jobs completed between the 10 % and 90 % marks over the time between them. */
  jobsPerSecond: number;
}

/**
 * Runs `jobs` jobs through a baseline worker process (raw BullMQ no-op, or the naive
 * await-the-run worker) and measures wall time from the worker start to the last completion.
 */
export async function runBaseline(options: {
  mode: 'raw' | 'naive';
  redisUrl: string;
  logDir: string;
  jobs: number;
  concurrency: number;
  data: (i: number) => Record<string, unknown>;
  runflow?: { baseUrl: string; apiKey: string };
  timeoutMs?: number;
}): Promise<BaselineRun> {
  const prefix = uniquePrefix(`base-${options.mode}`);
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('baseline', { connection, prefix });
  try {
    for (let offset = 0; offset < options.jobs; offset += 500) {
      const count = Math.min(500, options.jobs - offset);
      await queue.addBulk(
        Array.from({ length: count }, (_, k) => ({
          name: 'job',
          data: options.data(offset + k),
          opts: { removeOnComplete: false },
        })),
      );
    }
    const proc = spawnScript(
      `baseline-${options.mode}`,
      MAIN,
      {
        MODE: options.mode,
        REDIS_URL: options.redisUrl,
        PREFIX: prefix,
        QUEUE: 'baseline',
        CONCURRENCY: String(options.concurrency),
        RUNFLOW_BASE_URL: options.runflow?.baseUrl ?? '',
        RUNFLOW_API_KEY: options.runflow?.apiKey ?? '',
      },
      { logFile: join(options.logDir, `baseline-${options.mode}.log`) },
    );
    const started = performance.now();
    const samples: { atMs: number; finished: number }[] = [];
    try {
      await proc.waitFor('baseline worker ready');
      const deadline = started + (options.timeoutMs ?? 300_000);
      for (;;) {
        const finished = await queue.getCompletedCount();
        samples.push({ atMs: performance.now() - started, finished });
        if (finished >= options.jobs) break;
        if (performance.now() > deadline) throw new Error(`${options.mode} baseline: not done in time`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await proc.stop();
    }
    const wallMs = performance.now() - started;
    return { jobs: options.jobs, wallMs, jobsPerSecond: steadyRate(samples, options.jobs) };
  } finally {
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    connection.disconnect();
  }
}

/** Finished per second between the 10 % and 90 % marks (warm-up and tail excluded). */
export function steadyRate(samples: readonly { atMs: number; finished: number }[], total: number): number {
  const at = (fraction: number) => samples.find((s) => s.finished >= fraction * total);
  const from = at(0.1);
  const to = at(0.9);
  if (!from || !to || to.atMs <= from.atMs) return Number.NaN;
  return (to.finished - from.finished) / ((to.atMs - from.atMs) / 1000);
}
