import { buildApp } from '@runflow-queue/api';
import { createProducer, type EditProducer } from '@runflow-queue/producer';
import { createRedis, type RedisClient, SpendLedger } from '@runflow-queue/store';
import { uniquePrefix } from '@runflow-queue/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { proEdit, quietLogger } from '../support/fleet.ts';

// API tokens belong to named callers. A caller sees, waits on and cancels only its own jobs
// (another caller's answer exactly like no job: 404), its idempotency keys are its own, an admin sees
// every job, and the caller is recorded on the job and becomes a ledger dimension.

const A = { name: 'catalog', token: 'tok-catalog-0123456789abcdef' };
const B = { name: 'search', token: 'tok-search-0123456789abcdef' };
const ADMIN = { name: 'ops', token: 'tok-ops-0123456789abcdef', admin: true };
const LEGACY = 'tok-legacy-0123456789abcdef';

let redis: RedisClient;
let prefix: string;
let producer: EditProducer;
let app: FastifyInstance;
let base: string;

async function call(token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  redis = createRedis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
  prefix = uniquePrefix('callers');
  producer = createProducer({ redis, prefix });
  app = buildApp({
    producer,
    redis,
    queues: ['edits'],
    tokens: [A, B, ADMIN, LEGACY],
    logger: quietLogger,
    cancelWaitMs: 500,
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await producer?.close();
  await redis?.quit();
});

describe('callers kept apart', () => {
  it("gives caller B a 404 for caller A's job on read, wait and cancel; A and the admin see it", async () => {
    const created = await call(A.token, 'POST', '/v1/edits', proEdit('catalog only'));
    expect(created.status).toBe(202);
    const id = created.body.id as string;

    const read = await call(B.token, 'GET', `/v1/edits/${id}`);
    expect(read).toMatchObject({ status: 404, body: { code: 'JOB_NOT_FOUND' } });
    // The same answer as for an id that never existed: nothing tells B the job is there.
    const never = await call(B.token, 'GET', '/v1/edits/999999');
    expect(read.body.message.replace(id, 'ID')).toBe(never.body.message.replace('999999', 'ID'));
    expect(await call(B.token, 'GET', `/v1/edits/${id}?waitMs=300`)).toMatchObject({
      status: 404,
      body: { code: 'JOB_NOT_FOUND' },
    });
    expect(await call(B.token, 'DELETE', `/v1/edits/${id}`)).toMatchObject({
      status: 404,
      body: { code: 'JOB_NOT_FOUND', outcome: 'not_found' },
    });
    // Untouched by B, and A's own view says whose it is.
    expect((await producer.queue('edits').getJob(id))?.data).toMatchObject({ step: 'queued', caller: 'catalog' });
    expect(await call(A.token, 'GET', `/v1/edits/${id}`)).toMatchObject({
      status: 200,
      body: { id, caller: 'catalog', step: 'queued' },
    });
    // A long poll of a job that is still waiting answers with its status after waitMs.
    const started = Date.now();
    expect(await call(A.token, 'GET', `/v1/edits/${id}?waitMs=300`)).toMatchObject({ status: 200, body: { id } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(await call(ADMIN.token, 'GET', `/v1/edits/${id}`)).toMatchObject({
      status: 200,
      body: { caller: 'catalog' },
    });
    // The admin may cancel it.
    expect(await call(ADMIN.token, 'DELETE', `/v1/edits/${id}`)).toMatchObject({
      status: 200,
      body: { outcome: 'removed' },
    });
  });

  it('scopes idempotency keys to the caller: the same key from two callers makes two jobs', async () => {
    const a = await call(A.token, 'POST', '/v1/edits', { ...proEdit('A'), idempotencyKey: 'order-1' });
    const b = await call(B.token, 'POST', '/v1/edits', { ...proEdit('B'), idempotencyKey: 'order-1' });
    expect(a.status).toBe(202);
    expect(b).toMatchObject({ status: 202, body: { deduplicated: false } });
    expect(b.body.id).not.toBe(a.body.id);
    const again = await call(A.token, 'POST', '/v1/edits', { ...proEdit('A'), idempotencyKey: 'order-1' });
    expect(again.body).toMatchObject({ id: a.body.id, deduplicated: true });
    expect((await producer.queue('edits').getJob(b.body.id))?.data.caller).toBe('search');
  });

  it('keeps a bare token and the producer without a caller in the namespace jobs always had', async () => {
    const legacy = await call(LEGACY, 'POST', '/v1/edits', { ...proEdit('old'), idempotencyKey: 'legacy-key' });
    // The producer used directly (no caller) with the same key meets the same job: a retry across the
    // deploy that introduced callers dedupes instead of paying twice.
    const direct = await producer.enqueueEdit('edits', { ...proEdit('old'), idempotencyKey: 'legacy-key' });
    expect(direct).toMatchObject({ id: legacy.body.id, deduplicated: true });
    expect(await call(LEGACY, 'GET', `/v1/edits/${legacy.body.id}`)).toMatchObject({
      status: 200,
      body: { caller: 'default' },
    });
    expect((await call(A.token, 'GET', `/v1/edits/${legacy.body.id}`)).status).toBe(404);
  });

  it('records the caller as a ledger dimension, and no name can forge another row', async () => {
    const ledger = new SpendLedger(redis, { prefix });
    const run = {
      queue: 'edits',
      model: 'google/nano-banana-pro/edit',
      day: '2026-11-30',
      outcome: 'completed' as const,
      images: 1,
      costMicroUsd: 150_000,
      completedBy: 'callback' as const,
    };
    await ledger.settle({ ...run, runId: 'run-a', costCenter: 'growth', caller: 'catalog' });
    await ledger.settle({ ...run, runId: 'run-b', costCenter: 'growth', caller: 'search' });
    await ledger.settle({ ...run, runId: 'run-c', costCenter: 'growth' });
    // A job written before validation existed, with a "|" in its cost center: encoded in Redis, so it is
    // its own row and reads back exactly as it was (not a second "growth" row, not a mangled name).
    await ledger.settle({ ...run, runId: 'run-d', costCenter: 'growth|2026-11-30|spendMicroUsd' });
    const rows = (await ledger.rows(['edits'])).map((r) => [r.costCenter, r.caller, r.spendMicroUsd]);
    expect(rows).toEqual([
      ['growth', '-', 150_000],
      ['growth', 'catalog', 150_000],
      ['growth', 'search', 150_000],
      ['growth|2026-11-30|spendMicroUsd', '-', 150_000],
    ]);
  });
});
