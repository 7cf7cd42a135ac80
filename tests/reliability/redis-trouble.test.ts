import { buildApp } from '@runflow-queue/api';
import { CALLBACK_PATH } from '@runflow-queue/callback-ingest';
import { createProducer, type EditProducer } from '@runflow-queue/producer';
import { type Sim, signBody, startSim } from '@runflow-queue/runflow-sim';
import { type AppProcess, spawnApp } from '@runflow-queue/runtime';
import { RunflowQueueError } from '@runflow-queue/shared';
import { CallbackInbox, createRedis, SpendLedger } from '@runflow-queue/store';
import { freePort, uniquePrefix } from '@runflow-queue/testkit';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { proEdit, waitFor } from '../support/fleet.ts';
import { OwnRedis } from './support/own-redis.ts';

// Redis trouble: producers fail fast and say why, workers come back after a restart (BullMQ workers
// that never resume after a reconnect are a known failure mode), ingest answers 503 while it cannot
// persist so Runflow retries.

const SECRET = 'whsec_redis_trouble_secret';
const API_TOKEN = 'svc-trouble-0123456789abcdef';
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {});
  cleanup.length = 0;
});

async function ownRedis(): Promise<OwnRedis> {
  const redis = await new OwnRedis().start();
  cleanup.push(() => redis.close());
  return redis;
}

function producerOn(url: string, prefix: string, redisTimeoutMs?: number): EditProducer {
  const producer = createProducer({ redis: url, prefix, redisTimeoutMs });
  cleanup.push(() => producer.close());
  return producer;
}

async function failsFast(call: () => Promise<unknown>, withinMs: number): Promise<RunflowQueueError> {
  const started = Date.now();
  const error = await call().then(
    () => new Error('expected the call to fail'),
    (e: unknown) => e,
  );
  expect(Date.now() - started).toBeLessThan(withinMs);
  expect(error).toBeInstanceOf(RunflowQueueError);
  expect((error as RunflowQueueError).code).toBe('REDIS_UNAVAILABLE');
  expect((error as RunflowQueueError).retryable).toBe(true);
  return error as RunflowQueueError;
}

async function startIngest(redisUrl: string, prefix: string): Promise<{ app: AppProcess; url: string }> {
  const port = await freePort();
  const app = spawnApp('callback-ingest', {
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    QUEUES: 'edits',
    HOST: '127.0.0.1',
    PORT: String(port),
    CALLBACK_SECRETS: SECRET,
    LOG_LEVEL: 'info',
  });
  cleanup.push(() => app.stop());
  await app.waitFor('callback-ingest listening');
  return { app, url: `http://127.0.0.1:${port}` };
}

async function startSimulator(options: Parameters<typeof startSim>[0] = {}): Promise<Sim> {
  const sim = await startSim({ signingSecret: SECRET, latencyMs: { min: 20, max: 60 }, ...options });
  cleanup.push(() => sim.close());
  return sim;
}

describe('Redis trouble', () => {
  it('producer calls fail fast with REDIS_UNAVAILABLE while Redis is down, and work again once it is back', async () => {
    const redis = await ownRedis();
    const prefix = uniquePrefix();
    const producer = producerOn(redis.url, prefix, 1_000);
    const first = await producer.enqueueEdit('edits', proEdit('before'));
    await redis.stop();

    const error = await failsFast(() => producer.enqueueEdit('edits', proEdit('during')), 3_000);
    expect(error.message).toMatch(/Redis is not reachable|Redis stopped answering/);
    // A queue this producer never touched: BullMQ alone would wait for its connection forever.
    await failsFast(() => producer.enqueueEdit('fresh', proEdit('during')), 3_000);
    await failsFast(() => producer.enqueueEdits('edits', [proEdit('a'), proEdit('b')]), 3_000);
    await failsFast(() => producer.getEdit('edits', first.id), 3_000);
    await failsFast(() => producer.waitForResult('edits', first.id, { timeoutMs: 60_000 }), 3_000);
    await failsFast(() => producer.cancelEdit('edits', first.id), 3_000);

    // A producer whose Redis never answered at all, with the default 5 s bound.
    const never = producerOn(`redis://127.0.0.1:${await freePort()}`, prefix);
    await failsFast(() => never.enqueueEdit('edits', proEdit()), 8_000);

    await redis.start();
    // ioredis reconnects on its own schedule (up to 2 s apart): retrying with a key is always safe.
    const after = await waitFor(
      () => producer.enqueueEdit('edits', { ...proEdit('after'), idempotencyKey: 'after' }).catch(() => undefined),
      10_000,
      'enqueue after Redis is back',
    );
    const check = createRedis(redis.url);
    cleanup.push(() => check.quit());
    // Only the two accepted jobs exist: nothing the failed calls sent was applied later.
    expect(await producer.queue('edits').getJobCounts('prioritized', 'waiting')).toEqual({
      prioritized: 2,
      waiting: 0,
    });
    expect(await producer.queue('fresh').count()).toBe(0);
    expect((await producer.getEdit('edits', after.id))?.state).toBe('prioritized');
  });

  it('Redis refusing writes (maxmemory, noeviction) is REDIS_UNAVAILABLE: the producer says why, the API answers 503 with Retry-After', async () => {
    const redis = await ownRedis();
    const prefix = uniquePrefix();
    const producer = producerOn(redis.url, prefix);
    const admin = createRedis(redis.url);
    cleanup.push(() => admin.quit());
    const app = buildApp({
      producer,
      redis: admin,
      queues: ['edits'],
      tokens: [API_TOKEN],
      logger: pino({ level: 'silent' }),
    });
    cleanup.push(() => app.close());
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const post = (body: unknown) =>
      fetch(`${base}/v1/edits`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post(proEdit('before'))).status).toBe(202);

    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1');
    const error = await failsFast(() => producer.enqueueEdit('edits', proEdit('during')), 3_000);
    expect(error.message).toMatch(/Redis refused the command \(OOM command not allowed/);
    const refused = await post(proEdit('during'));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toMatchObject({ code: 'REDIS_UNAVAILABLE' });

    await admin.config('SET', 'maxmemory', '0');
    expect((await post(proEdit('after'))).status).toBe(202);
    expect(await producer.queue('edits').count()).toBe(2);
  });

  it('a worker process reconnects and resumes consuming after Redis restarts', async () => {
    const redis = await ownRedis();
    const prefix = uniquePrefix();
    const sim = await startSimulator();
    const ingest = await startIngest(redis.url, prefix);
    const worker = spawnApp('worker', {
      REDIS_URL: redis.url,
      REDIS_PREFIX: prefix,
      QUEUES: 'edits',
      RUNFLOW_BASE_URL: sim.url,
      RUNFLOW_API_KEY: sim.apiKey,
      CALLBACK_URL: `${ingest.url}${CALLBACK_PATH}`,
      RUNFLOW_RATE_LIMIT_PER_SECOND: '500',
      FIRST_POLL_DELAY_MS: '1000',
      POLL_INTERVAL_MS: '500',
      LOG_LEVEL: 'info',
    });
    cleanup.push(() => worker.stop());
    await worker.waitFor('"msg":"worker started"');
    const producer = producerOn(redis.url, prefix);
    const queue = producer.queue('edits');
    const batch = (label: string) => Array.from({ length: 10 }, (_, i) => proEdit(`${label} ${i}`));

    await producer.enqueueEdits('edits', batch('before'));
    await waitFor(async () => (await queue.getCompletedCount()) === 10, 15_000, 'first 10 completed');

    await redis.restart(1_000);
    // The producer rides through the restart (it waits up to 5 s for the connection).
    await producer.enqueueEdits('edits', batch('after'));
    await waitFor(async () => (await queue.getCompletedCount()) === 20, 20_000, 'all 20 completed after the restart');

    expect(await queue.getFailedCount()).toBe(0);
    expect(sim.stats().runsCreated).toBe(20);
    const ledgerRedis = createRedis(redis.url);
    cleanup.push(() => ledgerRedis.quit());
    expect(await new SpendLedger(ledgerRedis, { prefix }).totalMicroUsd(['edits'])).toBe(sim.billing().totalMicroUsd);
    expect(worker.child.exitCode).toBeNull();
    expect((await worker.stop()).code).toBe(0);
  });

  it('callback-ingest answers 503 while it cannot persist; the simulator retries and the callback lands', async () => {
    const redis = await ownRedis();
    const prefix = uniquePrefix();
    const ingest = await startIngest(redis.url, prefix);
    const sim = await startSimulator({
      callbackRetry: { attempts: 8, delaysMs: [500, 1_000, 1_500], timeoutMs: 10_000 },
    });
    sim.holdCallbacks(true);
    const created = await fetch(`${sim.url}/v1/models/google/nano-banana-pro/edit/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sim.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        input: proEdit().input,
        callback_url: `${ingest.url}${CALLBACK_PATH}`,
        metadata: { queue: 'edits', jobId: 'job-503', clientRef: 'rq_503' },
        client_ref: 'rq_503',
      }),
    });
    const runId = ((await created.json()) as { id: string }).id;
    await waitFor(async () => sim.getRun(runId)?.status_code === 'succeeded', 5_000, 'run done');

    await redis.stop();
    // Directly: a valid, signed callback gets 503 CALLBACK_STORE_FAILED in seconds, not a hang.
    const body = JSON.stringify({ event: 'run.completed', run_id: 'direct-run', status: 'succeeded', output: null });
    const started = Date.now();
    const direct = await fetch(`${ingest.url}${CALLBACK_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'runflow-signature': signBody(SECRET, body) },
      body: JSON.stringify({ ...JSON.parse(body) }),
    });
    expect(direct.status).toBe(503);
    expect(((await direct.json()) as { code: string }).code).toBe('CALLBACK_STORE_FAILED');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await fetch(`${ingest.url}/readyz`)).status).toBe(503);

    // The simulator's delivery meets the same 503 and keeps retrying until Redis is back.
    const delivered = sim.releaseCallbacks(runId);
    await waitFor(async () => sim.getRun(runId)?.deliveries.some((d) => d.statusCode === 503), 10_000, 'a 503');
    await redis.start();
    await delivered;

    const statuses = (sim.getRun(runId)?.deliveries ?? []).map((d) => d.statusCode);
    expect(statuses[0]).toBe(503);
    expect(statuses.at(-1)).toBe(200);
    const check = createRedis(redis.url);
    cleanup.push(() => check.quit());
    expect(await new CallbackInbox(check, { prefix }).has('edits', runId)).toBe(true);
    expect(ingest.app.child.exitCode).toBeNull();
  });
});
