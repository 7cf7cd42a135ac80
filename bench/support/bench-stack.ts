import { join } from 'node:path';
import { CALLBACK_PATH } from '@runflow-queue/callback-ingest';
import { createProducer, DEFAULT_IDEMPOTENCY_WINDOW_MS, type EditProducer } from '@runflow-queue/producer';
import { type LatencyRangeMs, type Sim, type SimOptions, startSim } from '@runflow-queue/runflow-sim';
import { type AppProcess, spawnApp } from '@runflow-queue/runtime';
import type { EditRequestInput } from '@runflow-queue/shared';
import { freePort, uniquePrefix, waitForHttp } from '@runflow-queue/testkit';
import { type LatencyProxy, startLatencyProxy } from './latency-proxy.ts';

// The shared runner of the scenarios: the simulator in-process (its counters and billing readable
// directly), optionally behind a latency proxy, callback-ingest and N workers as real processes, one
// Redis key prefix per stack. Scenarios start a stack per trial and close it after.

const SECRET = 'whsec_bench_secret';

export interface StackOptions {
  redisUrl: string;
  logDir: string;
  /** Names the log files of this stack's processes. */
  label: string;
  queues?: string[];
  workers: number;
  /** Extra worker variables (WORKER_CONCURRENCY, RUNFLOW_RATE_LIMIT_PER_SECOND …). */
  workerEnv?: Record<string, string>;
  /** Extra variables of every process, ingest and workers (e.g. the OTEL_* of a traced trial). */
  env?: Record<string, string>;
  sim?: SimOptions;
  /** Round trip added to every request from a worker to the simulator (the network to Runflow). */
  runflowRttMs?: LatencyRangeMs;
  /** false → workers poll only (no CALLBACK_URL). */
  callbacks?: boolean;
  /**
   * Divides every retention in Redis (RETENTION_DIVISOR of worker and ingest, and the producer's
   * finished-job ages), so that "24 h" passes in 86,400 / divisor seconds. Default 1.
   */
  retentionDivisor?: number;
}

export interface JobCounts {
  completed: number;
  failed: number;
  waiting: number;
  active: number;
  parked: number;
}

export interface Stack {
  prefix: string;
  queues: string[];
  sim: Sim;
  producer: EditProducer;
  workers: AppProcess[];
  ingest: AppProcess;
  /** Enqueues `count` jobs over the stack's queues in bulk batches of 100. */
  enqueue(count: number, request: (i: number) => EditRequestInput): Promise<void>;
  counts(): Promise<JobCounts>;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const prefix = uniquePrefix('bench');
  const queues = options.queues ?? ['edits'];
  const processes: AppProcess[] = [];
  let proxy: LatencyProxy | undefined;
  const sim = await startSim({ signingSecret: SECRET, ...options.sim });
  const divisor = options.retentionDivisor ?? 1;
  const producer = createProducer({
    redis: options.redisUrl,
    prefix,
    ...(divisor > 1
      ? {
          idempotencyWindowMs: Math.ceil(DEFAULT_IDEMPOTENCY_WINDOW_MS / divisor),
          keepFailedMs: Math.ceil((7 * 24 * 3600_000) / divisor),
        }
      : {}),
  });
  const common = {
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: prefix,
    QUEUES: queues.join(','),
    LOG_LEVEL: 'info',
    ...(divisor > 1 ? { RETENTION_DIVISOR: String(divisor) } : {}),
    ...options.env,
  };
  const close = async () => {
    await Promise.all(processes.map((proc) => proc.stop()));
    await producer.close();
    await proxy?.close();
    await sim.close();
  };
  try {
    proxy = options.runflowRttMs ? await startLatencyProxy(sim.url, options.runflowRttMs) : undefined;
    const ingestPort = await freePort();
    const ingest = spawnApp(
      'callback-ingest',
      { ...common, HOST: '127.0.0.1', PORT: String(ingestPort), CALLBACK_SECRETS: SECRET },
      { logFile: join(options.logDir, `${options.label}-ingest.log`) },
    );
    processes.push(ingest);
    await waitForHttp(`http://127.0.0.1:${ingestPort}/readyz`);
    const workers = Array.from({ length: options.workers }, (_, i) =>
      spawnApp(
        'worker',
        {
          ...common,
          RUNFLOW_BASE_URL: proxy?.url ?? sim.url,
          RUNFLOW_API_KEY: sim.apiKey,
          ...(options.callbacks === false ? {} : { CALLBACK_URL: `http://127.0.0.1:${ingestPort}${CALLBACK_PATH}` }),
          ...options.workerEnv,
        },
        { logFile: join(options.logDir, `${options.label}-worker-${i + 1}.log`) },
      ),
    );
    processes.push(...workers);
    await Promise.all(workers.map((worker) => worker.waitFor('"msg":"worker started"')));
    return {
      prefix,
      queues,
      sim,
      producer,
      workers,
      ingest,
      async enqueue(count, request) {
        for (let offset = 0; offset < count; offset += 100) {
          const batch = Array.from({ length: Math.min(100, count - offset) }, (_, k) => request(offset + k));
          await producer.enqueueEdits(queues[(offset / 100) % queues.length], batch);
        }
      },
      async counts() {
        const total: JobCounts = { completed: 0, failed: 0, waiting: 0, active: 0, parked: 0 };
        for (const name of queues) {
          const c = await producer
            .queue(name)
            .getJobCounts('completed', 'failed', 'waiting', 'prioritized', 'active', 'delayed');
          total.completed += c.completed;
          total.failed += c.failed;
          total.waiting += c.waiting + c.prioritized;
          total.active += c.active;
          total.parked += c.delayed;
        }
        return total;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export interface Progress {
  /** ms since the start of the wait, and jobs finished (completed + failed) then. */
  samples: { atMs: number; finished: number }[];
  wallMs: number;
  final: JobCounts;
}

/** Samples the finished count every `intervalMs` until `total` jobs finished or `timeoutMs` passed. */
export async function waitForJobs(stack: Stack, total: number, timeoutMs: number, intervalMs = 100): Promise<Progress> {
  const started = performance.now();
  const samples: Progress['samples'] = [];
  for (;;) {
    const counts = await stack.counts();
    const atMs = performance.now() - started;
    samples.push({ atMs, finished: counts.completed + counts.failed });
    if (counts.completed + counts.failed >= total || atMs > timeoutMs) return { samples, wallMs: atMs, final: counts };
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Steady-state throughput: jobs finished between the 10 % and 90 % marks over the time between them,
 * so process warm-up and the last runs' tail latency do not count.
 */
export function steadyJobsPerSecond(progress: Progress, total: number): number {
  const at = (fraction: number) => progress.samples.find((s) => s.finished >= fraction * total);
  const from = at(0.1);
  const to = at(0.9);
  if (!from || !to || to.atMs <= from.atMs) return Number.NaN;
  return (to.finished - from.finished) / ((to.atMs - from.atMs) / 1000);
}
