import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CALLBACK_PATH } from '@runflow-queue/callback-ingest';
import { type Sim, signBody, startSim } from '@runflow-queue/runflow-sim';
import { type AppProcess, spawnApp } from '@runflow-queue/runtime';
import { bullPrefix, createRedis, type RedisClient } from '@runflow-queue/store';
import { freePort, uniquePrefix } from '@runflow-queue/testkit';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../support/fleet.ts';

// Secrets never reach logs or Redis: a full run — workers (one with a revoked key), callback-ingest,
// the HTTP API and the dashboard, all at LOG_LEVEL=trace — with faults, a signer rotation, forged
// callbacks, wrong credentials, webhooks and boot-time config errors; then every line any process
// wrote and every value under the run's Redis prefix is searched for every secret.

const API_KEY = 'rf_live_TESTKEY_3f9a1c7e5b2d4a6c8e0f';
const REVOKED_KEY = 'rf_live_REVOKED_77aa11bb22cc33dd44ee';
const CALLBACK_OLD = 'whsec_CBOLD_1b2c3d4e5f60718293a4';
const CALLBACK_NEW = 'whsec_CBNEW_9f8e7d6c5b4a39281706';
const API_TOKEN = 'svc_APITOKEN_0a1b2c3d4e5f6a7b8c9d';
const NOTIFY_SECRET = 'whsec_NOTIFY_5e6f7a8b9c0d1e2f3a4b';
const DASHBOARD_PASSWORD = 'dash-PASSWORD-4c5d6e7f8a9b';
const DASHBOARD_TOKEN = 'dash_TOKEN_0f1e2d3c4b5a69788796';
const SECRETS = {
  API_KEY,
  REVOKED_KEY,
  CALLBACK_OLD,
  CALLBACK_NEW,
  API_TOKEN,
  NOTIFY_SECRET,
  DASHBOARD_PASSWORD,
  DASHBOARD_TOKEN,
  DASHBOARD_BASIC: Buffer.from(`admin:${DASHBOARD_PASSWORD}`).toString('base64'),
};

const prefix = uniquePrefix('secrets');
const apps: AppProcess[] = [];
const bootFailures: AppProcess[] = [];
let sim: Sim;
let redis: RedisClient;
let receiver: http.Server;
let webhooks = 0;

/** Every value under the prefix, whatever its type, as text. */
async function dumpKeyspace(client: RedisClient): Promise<string> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
    cursor = next;
    for (const key of keys) {
      const type = await client.type(key);
      out.push(key);
      if (type === 'string') out.push((await client.get(key)) ?? '');
      else if (type === 'hash') out.push(JSON.stringify(await client.hgetall(key)));
      else if (type === 'list') out.push(JSON.stringify(await client.lrange(key, 0, -1)));
      else if (type === 'set') out.push(JSON.stringify(await client.smembers(key)));
      else if (type === 'zset') out.push(JSON.stringify(await client.zrange(key, '0', '-1', 'WITHSCORES')));
      else if (type === 'stream') out.push(JSON.stringify(await client.xrange(key, '-', '+')));
    }
  } while (cursor !== '0');
  return out.join('\n');
}

function leaks(text: string): string[] {
  return Object.entries(SECRETS)
    .filter(([, secret]) => text.includes(secret))
    .map(([name]) => name);
}

beforeAll(async () => {
  const redisUrl = inject('redisUrl');
  redis = createRedis(redisUrl, { maxRetriesPerRequest: null });
  receiver = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      webhooks += 1;
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  sim = await startSim({
    apiKeys: [API_KEY],
    signingSecret: CALLBACK_OLD,
    latencyMs: { min: 20, max: 100 },
    callbackRetry: { attempts: 3, delaysMs: [100, 200], timeoutMs: 2_000 },
    faults: {
      createServerError: 0.1,
      resetAfterCreate: 0.1,
      callbackDrop: 0.1,
      callbackDuplicate: 0.2,
      runFailed: 0.1,
    },
  });
  const [ingestPort, apiPort, dashboardPort] = [await freePort(), await freePort(), await freePort()];
  const common = { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, LOG_LEVEL: 'trace' };
  const workerEnv = {
    ...common,
    RUNFLOW_BASE_URL: sim.url,
    CALLBACK_URL: `http://127.0.0.1:${ingestPort}${CALLBACK_PATH}`,
    FIRST_POLL_DELAY_MS: '500',
    POLL_INTERVAL_MS: '300',
    AMBIGUOUS_GRACE_MS: '500',
    NOTIFY_SIGNING_SECRET: NOTIFY_SECRET,
    NOTIFY_ALLOW_HTTP_LOOPBACK: 'true',
  };
  const start = (app: Parameters<typeof spawnApp>[0], env: Record<string, string>) => {
    const proc = spawnApp(app, env);
    apps.push(proc);
    return proc;
  };
  const ingest = start('callback-ingest', {
    ...common,
    QUEUES: 'edits,revoked',
    HOST: '127.0.0.1',
    PORT: String(ingestPort),
    CALLBACK_SECRETS: `${CALLBACK_OLD},${CALLBACK_NEW}`,
  });
  const worker = start('worker', { ...workerEnv, QUEUES: 'edits', RUNFLOW_API_KEY: API_KEY });
  const revoked = start('worker', { ...workerEnv, QUEUES: 'revoked', RUNFLOW_API_KEY: REVOKED_KEY });
  const api = start('api', {
    ...common,
    QUEUES: 'edits,revoked',
    HOST: '127.0.0.1',
    PORT: String(apiPort),
    API_TOKENS: API_TOKEN,
    NOTIFY_ALLOW_HTTP_LOOPBACK: 'true',
  });
  const dashboard = start('dashboard', {
    ...common,
    QUEUES: 'edits,revoked',
    HOST: '127.0.0.1',
    PORT: String(dashboardPort),
    DASHBOARD_PASSWORD,
    DASHBOARD_TOKEN,
  });
  await Promise.all([
    ingest.waitFor('callback-ingest listening'),
    worker.waitFor('"msg":"worker started"'),
    revoked.waitFor('"msg":"worker started"'),
    api.waitFor('api listening'),
    dashboard.waitFor('dashboard listening'),
  ]);

  // Traffic through the API: accepted edits (some with a webhook), a wrong token, an invalid body.
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const post = (body: unknown, token = API_TOKEN) =>
    fetch(`${apiUrl}/v1/edits`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const edit = (i: number, queue = 'edits') => ({
    queue,
    model: 'google/nano-banana-pro/edit',
    input: { prompt: `secret test ${i}`, image_urls: ['https://example.com/in.png'] },
    ...(i % 4 === 0 ? { notifyUrl: receiverUrl } : {}),
  });
  const ids: { queue: string; id: string }[] = [];
  for (let i = 0; i < 30; i += 1) {
    if (i === 15) sim.setSigningSecret(CALLBACK_NEW);
    const response = await post(edit(i, i % 10 === 9 ? 'revoked' : 'edits'));
    expect(response.status).toBe(202);
    ids.push((await response.json()) as { queue: string; id: string });
  }
  expect((await post(edit(99), `${API_TOKEN}x`)).status).toBe(401);
  expect((await post({ model: 'nope' })).status).toBe(422);

  // Forged callbacks at ingest.
  const body = JSON.stringify({ event: 'run.completed', run_id: 'forged', status: 'succeeded', output: null });
  for (const signature of [signBody('whsec_attacker_guess', body), 'abc', undefined]) {
    const response = await fetch(`http://127.0.0.1:${ingestPort}${CALLBACK_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(signature ? { 'runflow-signature': signature } : {}) },
      body,
    });
    expect(response.status).toBe(401);
  }

  // The dashboard with right and wrong credentials.
  const dashboardUrl = `http://127.0.0.1:${dashboardPort}`;
  const basic = (password: string) => `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
  for (const [authorization, status] of [
    [basic(DASHBOARD_PASSWORD), 200],
    [basic(`${DASHBOARD_PASSWORD}-wrong`), 401],
    [`Bearer ${DASHBOARD_TOKEN}`, 200],
    [`Bearer ${DASHBOARD_TOKEN}x`, 401],
  ] as const) {
    const response = await fetch(`${dashboardUrl}/api/stats`, { headers: { authorization } });
    expect(response.status).toBe(status);
  }

  // Every job finishes (the revoked key's fail UNAUTHORIZED); webhooks go out.
  await waitFor(
    async () => {
      for (const { queue, id } of ids) {
        const q = new Queue(queue, { connection: redis, prefix: bullPrefix(prefix, queue) });
        const state = await q.getJobState(id);
        await q.close();
        if (state !== 'completed' && state !== 'failed') return false;
      }
      return true;
    },
    30_000,
    'every job finished',
  );
  await waitFor(async () => webhooks >= 6, 10_000, 'webhooks delivered');
  await sim.whenCallbacksSettled();

  // Boot-time config errors that carry a secret in a rejected value.
  bootFailures.push(
    spawnApp('worker', { ...workerEnv, RUNFLOW_API_KEY: API_KEY, NOTIFY_SIGNING_SECRET: `${NOTIFY_SECRET},short` }),
    spawnApp('callback-ingest', { ...common, CALLBACK_SECRETS: `${CALLBACK_OLD},tiny` }),
    spawnApp('api', { ...common, API_TOKENS: `${API_TOKEN},short` }),
    spawnApp('dashboard', { ...common, DASHBOARD_PASSWORD: 'short', DASHBOARD_TOKEN }),
    spawnApp('worker', { ...workerEnv, RUNFLOW_API_KEY: API_KEY, RUNFLOW_BASE_URL: 'not a url' }),
  );
  await Promise.all(bootFailures.map((proc) => proc.exited));
  await Promise.all(apps.map((proc) => proc.stop()));
}, 90_000);

afterAll(async () => {
  await Promise.all([...apps, ...bootFailures].map((proc) => proc.stop(2_000)));
  await sim?.close();
  await new Promise((resolve) => receiver?.close(resolve));
  await redis?.quit();
});

describe('secrets never appear in logs or Redis', () => {
  it('trace-level logs of every process hold none of the secrets', () => {
    for (const proc of apps) {
      const output = proc.output();
      // Trace level really was on for the pipeline: request-level lines, not just start and stop.
      if (proc.app === 'worker' || proc.app === 'callback-ingest') {
        expect(output.split('\n').length, `${proc.app} wrote only a few lines`).toBeGreaterThan(10);
      }
      expect(leaks(output), `${proc.app} leaked`).toEqual([]);
    }
    const worker = apps.find((proc) => proc.app === 'worker')?.output() ?? '';
    expect(worker).toContain('"msg":"runflow request"');
    expect(apps.find((proc) => proc.app === 'callback-ingest')?.output()).toContain('callback rejected: signature');
  });

  it('boot-time configuration errors name the variable but hide its value', async () => {
    for (const proc of bootFailures) {
      expect((await proc.exited).code, `${proc.app} should refuse to start`).toBe(78);
      expect(proc.output()).toContain('configuration');
      expect(leaks(proc.output()), `${proc.app} printed a secret`).toEqual([]);
    }
  });

  it('nothing under the run’s Redis prefix holds a secret (job data, results, events, ledger, inbox)', async () => {
    const keyspace = await dumpKeyspace(redis);
    expect(keyspace).toContain('secret test 3');
    expect(keyspace).toContain('UNAUTHORIZED');
    expect(leaks(keyspace)).toEqual([]);
  });
});
