import { buildApp, CALLBACK_PATH } from '@runflow-queue/callback-ingest';
import { createProducer, type EditProducer } from '@runflow-queue/producer';
import { createRunflowClient } from '@runflow-queue/runflow-client';
import { type Sim, type SimOptions, startSim } from '@runflow-queue/runflow-sim';
import { parseWorkloads, workloadsFromQueues } from '@runflow-queue/runtime';
import type { WorkloadsConfigInput } from '@runflow-queue/shared';
import { CallbackInbox, createRedis, type RedisClient, SpendLedger } from '@runflow-queue/store';
import { uniquePrefix } from '@runflow-queue/testkit';
import {
  DEFAULT_LIFECYCLE,
  type EditWorkers,
  type EditWorkersOptions,
  type HoldsConfig,
  type LifecycleConfig,
  type LifecycleHooks,
  startEditWorkers,
} from '@runflow-queue/worker';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { inject } from 'vitest';

export const SECRET = 'whsec_test_secret_1';

export interface FleetOptions {
  queues?: string[];
  sim?: SimOptions;
  lifecycle?: Partial<LifecycleConfig>;
  concurrency?: number;
  hooks?: LifecycleHooks;
  /** false → no worker started (tests that drive jobs by hand). */
  workers?: boolean;
  /** false → no callback_url (polling only). */
  callbacks?: boolean;
  /** The key the workers send (default: the simulator's). */
  apiKey?: string;
  /** Queues, budgets, shares, rate limit (default: the queues at concurrency 8, no budget, 10,000 req/s). */
  workloads?: WorkloadsConfigInput;
  /** Redis to run on (default: the run's standalone Redis); `redis+cluster://…` for a Redis Cluster. */
  redisUrl?: string;
  /** Breaker, credit probe and hold timing (default: the worker's defaults). */
  holds?: HoldsConfig;
  /** BullMQ lock (default 30 s): a job left active by Redis trouble is retaken after about this. */
  lockDurationMs?: number;
  /** Run the spend reconciler in the workers (default: off; tests that need it drive or time it). */
  reconciler?: EditWorkersOptions['reconciler'];
}

/** A whole pipeline over real sockets: simulator, callback-ingest, workers, producer, one Redis prefix. */
export interface Fleet {
  prefix: string;
  queues: string[];
  redis: RedisClient;
  sim: Sim;
  ingest: FastifyInstance;
  ingestUrl: string;
  redisUrl: string;
  callbackUrl: string;
  workers: EditWorkers | undefined;
  producer: EditProducer;
  ledger: SpendLedger;
  inbox: CallbackInbox;
  close(): Promise<void>;
}

export const quietLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const prefix = uniquePrefix();
  const queues = options.queues ?? ['edits'];
  const redisUrl = options.redisUrl ?? inject('redisUrl');
  const redis = createRedis(redisUrl, { maxRetriesPerRequest: null });
  const sim = await startSim({
    latencyMs: { min: 20, max: 60 },
    signingSecret: SECRET,
    callbackRetry: { attempts: 3, delaysMs: [100, 200], timeoutMs: 2_000 },
    ...options.sim,
  });
  const ingest = buildApp({ redis, prefix, queues, secrets: [SECRET], logger: quietLogger });
  const ingestUrl = await ingest.listen({ host: '127.0.0.1', port: 0 });
  const client = createRunflowClient({
    baseUrl: sim.url,
    apiKey: options.apiKey ?? sim.apiKey,
    headersTimeoutMs: 5_000,
  });
  const workers =
    options.workers === false
      ? undefined
      : await startEditWorkers({
          connection: redis,
          prefix,
          workloads: options.workloads
            ? parseWorkloads(options.workloads)
            : workloadsFromQueues(queues, {
                concurrency: options.concurrency ?? 8,
                requestsPerSecond: 10_000,
                burst: 10_000,
              }),
          governorKey: options.apiKey ?? sim.apiKey,
          client,
          logger: quietLogger,
          hooks: options.hooks,
          holds: options.holds,
          lockDurationMs: options.lockDurationMs,
          reconciler: options.reconciler,
          lifecycle: {
            ...DEFAULT_LIFECYCLE,
            callbackUrl: options.callbacks === false ? undefined : `${ingestUrl}${CALLBACK_PATH}`,
            firstPollDelayMs: 10_000,
            pollIntervalMs: 500,
            maxPollIntervalMs: 2_000,
            transientBackoffMs: 50,
            maxTransientBackoffMs: 200,
            ambiguousGraceMs: 2_000,
            ...options.lifecycle,
          },
        });
  const producer = createProducer({ redis: redisUrl, prefix });
  return {
    prefix,
    queues,
    redis,
    sim,
    ingest,
    ingestUrl,
    redisUrl,
    callbackUrl: `${ingestUrl}${CALLBACK_PATH}`,
    workers,
    producer,
    ledger: new SpendLedger(redis, { prefix }),
    inbox: new CallbackInbox(redis, { prefix }),
    async close() {
      await producer.close();
      await workers?.close();
      await ingest.close();
      await client.close();
      await sim.close();
      await redis.quit();
    },
  };
}

export const proEdit = (prompt = 'make it blue') => ({
  model: 'google/nano-banana-pro/edit' as const,
  input: { prompt, image_urls: ['https://example.com/in.png'] },
});

export const nb2Edit = (extra: Record<string, unknown> = {}) => ({
  model: 'google/nano-banana-2/edit' as const,
  input: { prompt: 'add a hat', image_urls: ['https://example.com/in.png'], ...extra },
});

/** Delivers the callbacks the simulator was holding, once every run has reached its end. */
export async function releaseHeldCallbacks(fleet: Fleet): Promise<void> {
  await waitFor(
    async () => fleet.sim.runs().every((run) => run.status_code !== 'queued' && run.status_code !== 'running'),
    10_000,
    'runs terminal',
  );
  fleet.sim.holdCallbacks(false);
  await fleet.sim.releaseCallbacks();
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
  label = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
