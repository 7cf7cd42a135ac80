import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnScript } from '@runflow-queue/runtime';
import { uniquePrefix } from '@runflow-queue/testkit';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { FLOOR_JOB_OPTIONS } from './bullmq-floor.ts';
import { cpuSeconds } from './cpu-time.ts';
import { redisCpuSeconds } from './process-cpu.ts';

const MAIN = fileURLToPath(new URL('./baseline-worker.ts', import.meta.url));

export interface BaselineRun {
  jobs: number;
  wallMs: number;
  /** Steady state: jobs completed between the 10 % and 90 % marks over the time between them. */
  jobsPerSecond: number;
  /** CPU ms per job of the worker process and of Redis, from the worker's start to the last completion. */
  workerCpuMsPerJob: number;
  redisCpuMsPerJob: number;
}

/**
 * Runs `jobs` jobs through a baseline worker process (raw BullMQ no-op, BullMQ through an edit job's
 * park and wake, or the naive await-the-run worker; see baseline-worker.ts) and measures wall time and
 * CPU from the worker start to the last completion. The floor's jobs are added as our producer adds
 * them (a priority, attempts, kept a day once completed).
 */
export async function runBaseline(options: {
  mode: 'raw' | 'floor' | 'naive';
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
          opts: options.mode === 'floor' ? FLOOR_JOB_OPTIONS : { removeOnComplete: false },
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
    let cpu = { worker: Number.NaN, redis: Number.NaN };
    try {
      await proc.waitFor('baseline worker ready');
      // From ready on (the process's start-up left out); it starts on the jobs at once.
      const workerCpuStart = cpuSeconds(proc.child.pid);
      const redisCpuStart = await redisCpuSeconds(connection);
      const deadline = started + (options.timeoutMs ?? 300_000);
      for (;;) {
        const finished = await queue.getCompletedCount();
        samples.push({ atMs: performance.now() - started, finished });
        if (finished >= options.jobs) break;
        if (performance.now() > deadline) throw new Error(`${options.mode} baseline: not done in time`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      cpu = {
        worker: cpuSeconds(proc.child.pid) - workerCpuStart,
        redis: (await redisCpuSeconds(connection)) - redisCpuStart,
      };
    } finally {
      await proc.stop();
    }
    const wallMs = performance.now() - started;
    const perJob = (seconds: number) => Math.round((seconds * 1e6) / options.jobs) / 1000;
    return {
      jobs: options.jobs,
      wallMs,
      jobsPerSecond: steadyRate(samples, options.jobs),
      workerCpuMsPerJob: perJob(cpu.worker),
      redisCpuMsPerJob: perJob(cpu.redis),
    };
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
