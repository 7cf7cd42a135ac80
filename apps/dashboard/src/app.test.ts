import { createProducer, type EditProducer } from '@runflow-queue/producer';
import { CSV_HEADER, collectStats } from '@runflow-queue/stats';
import { createRedis, type RedisClient, SpendLedger } from '@runflow-queue/store';
import { uniquePrefix } from '@runflow-queue/testkit';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from './app.ts';

const basic = `Basic ${Buffer.from('admin:password123').toString('base64')}`;
const operator = `Basic ${Buffer.from('operator:operator-password-9').toString('base64')}`;
let redis: RedisClient;
let app: FastifyInstance;
let prefix: string;
let producer: EditProducer;
const edit = {
  model: 'google/nano-banana-pro/edit' as const,
  input: { prompt: 'blue', image_urls: ['https://c.example/a.png'] },
};
type Write = ['PUT' | 'POST' | 'PATCH', string, Record<string, unknown>?];

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
  producer = createProducer({ redis, prefix });
  app = buildApp({
    redis,
    prefix,
    queues: ['edits', 'other'],
    auth: {
      user: 'admin',
      password: 'password123',
      token: 'tok_0123456789abcdef',
      operator: { user: 'operator', password: 'operator-password-9' },
    },
    readOnlyQueues: ['other'],
    producer,
    logger: pino({ level: 'silent' }),
    collectIntervalMs: 60_000,
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await producer?.close();
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

  it('offers the per-run records as CSV for a range of days, adding up to the ledger', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const csv = await app.inject({
      url: `/spend/export.csv?from=${today}&to=${today}`,
      headers: { authorization: basic },
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toBe(`attachment; filename="spend-${today}-${today}.csv"`);
    const [header, ...lines] = csv.body.trimEnd().split('\n');
    expect(header).toBe(CSV_HEADER);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^run_1,-,edits,google\/nano-banana-pro\/edit,-,-,.*,completed,1,150000,,0,150000,estimated,poll,/,
    );
    const page = await app.inject({ url: '/spend', headers: { authorization: basic } });
    expect(page.body).toContain('action="/spend/export.csv"');
    // Settled without Runflow's cost (no pricing given): an estimate the reconciler has not confirmed.
    expect(page.body).toContain('data-testid="unconfirmed-runs" data-count="1"');
    const bad = await app.inject({ url: '/spend/export.csv?from=yesterday', headers: { authorization: basic } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('from="yesterday"') });
    expect((await app.inject({ url: `/spend/export.csv?from=${today}&to=${today}` })).statusCode).toBe(401);
  });

  it('renders the spend page and redirects / to it', async () => {
    expect((await app.inject({ url: '/', headers: { authorization: basic } })).headers.location).toBe('/spend');
    const page = await app.inject({ url: '/spend', headers: { authorization: basic } });
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('data-testid="ledger-total-micro-usd">150000<');
    expect(page.body).toContain('data-queue="other"');
  });

  it('shows the viewer every queue read-only, the operator the configured ones, and refuses unknown ones', async () => {
    const readOnly = async (authorization: string) => {
      const queues = (await app.inject({ url: '/queues/api/queues', headers: { authorization } })).json() as {
        queues: { name: string; readOnlyMode: boolean }[];
      };
      return Object.fromEntries(queues.queues.map((q) => [q.name, q.readOnlyMode]));
    };
    expect(await readOnly(basic)).toEqual({ edits: true, other: true });
    expect(await readOnly(operator)).toEqual({ edits: false, other: true });
    const added = await app.inject({
      method: 'POST',
      url: '/queues/api/queues/other/add',
      headers: { authorization: operator },
      payload: { name: 'edit', data: edit, options: {} },
    });
    expect(added.json()).toMatchObject({ code: 'QUEUE_READ_ONLY' });
    expect(Object.values(await producer.queue('other').getJobCounts()).every((n) => n === 0)).toBe(true);
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

  it('refuses every write of the viewer (Basic or token) with 403, and changes nothing', async () => {
    const job = await producer.enqueueEdit('edits', edit);
    for (const authorization of [basic, 'Bearer tok_0123456789abcdef']) {
      const writes: Write[] = [
        ['PUT', `/queues/api/queues/edits/${job.id}/retry`],
        ['PUT', `/queues/api/queues/edits/${job.id}/promote`],
        ['PUT', `/queues/api/queues/edits/${job.id}/clean`],
        ['PUT', '/queues/api/queues/edits/clean/waiting'],
        ['PUT', '/queues/api/queues/edits/pause'],
        ['POST', '/queues/api/queues/edits/add', { name: 'edit', data: edit, options: {} }],
        ['PATCH', `/queues/api/queues/edits/${job.id}/update-data`, { jobData: { ...edit, step: 'submitted' } }],
      ];
      for (const [method, url, payload] of writes) {
        const response = await app.inject({ method, url, headers: { authorization }, payload });
        expect(response.statusCode, `${method} ${url}`).toBe(403);
        expect(response.json(), `${method} ${url}`).toMatchObject({ code: 'FORBIDDEN' });
      }
    }
    const stored = await producer.queue('edits').getJob(job.id);
    expect(stored?.data).toMatchObject({ step: 'queued', input: edit.input });
    expect(await stored?.getState()).toBe('prioritized');
    expect((await producer.queue('edits').getJobCounts('prioritized')).prioritized).toBe(1);
    expect(await producer.queue('edits').isPaused()).toBe(false);
  });

  it('lets the operator add a job only as a new queued job: a forged step, run and clientRef are dropped', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/queues/api/queues/edits/add',
      headers: { authorization: operator },
      payload: {
        name: 'edit',
        data: { ...edit, step: 'submitted', runId: 'run-of-another-job', clientRef: 'rq_x', enqueuedAt: 1 },
        options: { jobId: 'forced-id', priority: 5 },
      },
    });
    expect(response.statusCode).toBe(200);
    const id = (response.json() as { job: { id: string } }).job.id;
    expect(id).not.toBe('forced-id');
    const job = await producer.queue('edits').getJob(id);
    expect(job?.data.step).toBe('queued');
    expect(job?.data.runId).toBeUndefined();
    expect(job?.data.clientRef).toBeUndefined();
    expect(job?.data.caller).toBe('dashboard');
    expect(job?.opts.priority).toBe(5);
    // Update data: disabled for edit queues, for the operator too; writes from another origin: refused.
    const update = await app.inject({
      method: 'PATCH',
      url: `/queues/api/queues/edits/${id}/update-data`,
      headers: { authorization: operator },
      payload: { jobData: { ...edit, step: 'submitted', runId: 'run-x' } },
    });
    expect(update.json()).toMatchObject({ code: 'ACTION_DISABLED' });
    const csrf = await app.inject({
      method: 'PUT',
      url: `/queues/api/queues/edits/${id}/clean`,
      headers: { authorization: operator, origin: 'https://evil.example' },
    });
    expect(csrf.json()).toMatchObject({ code: 'CROSS_ORIGIN_WRITE' });
    // The board's own page: Origin equal to Host passes.
    const same = await app.inject({
      method: 'PATCH',
      url: `/queues/api/queues/edits/${id}/priority`,
      headers: { authorization: operator, origin: 'http://dash.internal:3100', host: 'dash.internal:3100' },
      payload: { priority: 3 },
    });
    expect(same.statusCode).toBe(200);
    const reprioritised = await producer.queue('edits').getJob(id);
    expect(reprioritised?.priority).toBe(3);
    expect(reprioritised?.data.runId).toBeUndefined();
  });
});
