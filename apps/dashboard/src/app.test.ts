import { collectStats } from '@runflow-queue/stats';
import { createRedis, type RedisClient, SpendLedger } from '@runflow-queue/store';
import { uniquePrefix } from '@runflow-queue/testkit';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from './app.ts';

const basic = `Basic ${Buffer.from('admin:password123').toString('base64')}`;
let redis: RedisClient;
let app: FastifyInstance;
let prefix: string;

beforeAll(async () => {
  redis = createRedis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
  prefix = uniquePrefix();
  const ledger = new SpendLedger(redis, { prefix });
  await ledger.settle({
    queue: 'edits',
    runId: 'run_1',
    model: 'google/nano-banana-pro/edit',
    day: new Date().toISOString().slice(0, 10),
    outcome: 'completed',
    images: 1,
    costMicroUsd: 150_000,
    completedBy: 'poll',
  });
  app = buildApp({
    redis,
    prefix,
    queues: ['edits', 'other'],
    auth: { user: 'admin', password: 'password123', token: 'tok_0123456789abcdef' },
    readOnlyQueues: ['other'],
    logger: pino({ level: 'silent' }),
    collectIntervalMs: 60_000,
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await redis?.quit();
});

describe('dashboard app', () => {
  it('answers 401 with a challenge to every page and API without credentials', async () => {
    for (const url of [
      '/',
      '/spend',
      '/api/stats',
      '/api/spend',
      '/queues',
      '/queues/api/queues',
      '/queues/static/x.js',
    ]) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(401);
      expect(response.headers['www-authenticate'], url).toBe('Basic realm="runflow-queue dashboard", charset="UTF-8"');
    }
    expect((await app.inject({ url: '/spend', headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401);
  });

  it('serves probes and Prometheus without credentials', async () => {
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ ok: true });
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('# TYPE rfq_queue_jobs gauge');
  });

  it('serves the same JSON as `pnpm stats --json` and `pnpm spend --json`', async () => {
    const stats = (await app.inject({ url: '/api/stats', headers: { authorization: basic } })).json();
    const direct = await collectStats(redis, { prefix, queues: ['edits', 'other'] });
    expect({ ...stats, generatedAt: '' }).toEqual({ ...direct, generatedAt: '' });
    const spend = (
      await app.inject({ url: '/api/spend', headers: { authorization: 'Bearer tok_0123456789abcdef' } })
    ).json();
    expect(spend).toEqual(await new SpendLedger(redis, { prefix }).rows(['edits', 'other']));
    expect(spend[0]).toMatchObject({ queue: 'edits', spendMicroUsd: 150_000, byPoll: 1 });
  });

  it('renders the spend page and redirects / to it', async () => {
    expect((await app.inject({ url: '/', headers: { authorization: basic } })).headers.location).toBe('/spend');
    const page = await app.inject({ url: '/spend', headers: { authorization: basic } });
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('data-testid="ledger-total-micro-usd">150000<');
    expect(page.body).toContain('data-queue="other"');
  });

  it('marks read-only queues for Bull Board and refuses unknown ones', async () => {
    const queues = (await app.inject({ url: '/queues/api/queues', headers: { authorization: basic } })).json() as {
      queues: { name: string; readOnlyMode: boolean }[];
    };
    expect(Object.fromEntries(queues.queues.map((q) => [q.name, q.readOnlyMode]))).toEqual({
      edits: false,
      other: true,
    });
    const added = await app.inject({
      method: 'POST',
      url: '/queues/api/queues/other/add',
      headers: { authorization: basic },
      payload: { name: 'edit', data: {}, options: {} },
    });
    expect(added.statusCode).toBeGreaterThanOrEqual(400);
    expect(() =>
      buildApp({
        redis,
        prefix,
        queues: ['edits'],
        auth: { token: 'tok_0123456789abcdef' },
        readOnlyQueues: ['nope'],
        logger: pino({ level: 'silent' }),
      }),
    ).toThrow(/read-only queues not among the queues shown: nope/);
  });
});
