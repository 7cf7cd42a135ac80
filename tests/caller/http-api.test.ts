import { Writable } from 'node:stream';
import SwaggerParser from '@apidevtools/swagger-parser';
import { buildApp } from '@runflow-queue/api';
import { createProducer, type EditProducer } from '@runflow-queue/producer';
import type { OpenAPIV3_1 } from 'openapi-types';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, nb2Edit, proEdit, releaseHeldCallbacks, startFleet, waitFor } from '../support/fleet.ts';

const TOKEN = 'svc-catalog-0123456789abcdef';
const OTHER_TOKEN = 'svc-search-0123456789abcdef';

let fleet: Fleet;
let producer: EditProducer;
let app: ReturnType<typeof buildApp>;
let base: string;
const logLines: string[] = [];

beforeAll(async () => {
  fleet = await startFleet({ queues: ['edits', 'bulk'] });
  producer = createProducer({ redis: fleet.redis, prefix: fleet.prefix });
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  app = buildApp({
    producer,
    redis: fleet.redis,
    queues: ['edits', 'bulk'],
    tokens: [TOKEN, OTHER_TOKEN],
    // Everything fastify and the app log, at the most verbose level: no token may appear in it.
    logger: pino({ level: 'trace' }, sink),
    cancelWaitMs: 1_000,
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app.close();
  await producer.close();
  await fleet.close();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

describe('HTTP enqueue API', () => {
  it('answers 401 without a token or with a wrong one, and never logs tokens', async () => {
    const none = await call('POST', '/v1/edits', proEdit(), { authorization: '' });
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('API_UNAUTHENTICATED');
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(
      (await call('GET', '/v1/edits/1', undefined, { authorization: 'Bearer wrong-token-0123456789' })).status,
    ).toBe(401);
    expect((await call('GET', '/v1/edits/1', undefined, { authorization: TOKEN })).status).toBe(401);
    expect(
      (await call('GET', '/v1/edits/1?queue=edits', undefined, { authorization: `Bearer ${OTHER_TOKEN}` })).status,
    ).toBe(404);
    expect((await call('GET', '/healthz', undefined, { authorization: '' })).status).toBe(200);
    expect((await call('GET', '/readyz', undefined, { authorization: '' })).body).toEqual({ ok: true });
    expect(await fleet.producer.queue('edits').count()).toBe(0);
    const logs = logLines.join('');
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain(OTHER_TOKEN);
  });

  it('enqueues a valid edit (202 + id) and serves its status and result once completed', async () => {
    const created = await call('POST', '/v1/edits', { ...nb2Edit({ num_images: 2 }), tags: { costCenter: 'api' } });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ queue: 'edits', deduplicated: false });
    expect(created.body.statusUrl).toBe(`/v1/edits/${created.body.id}?queue=edits`);
    const done = await waitFor(
      async () => {
        const status = await call('GET', created.body.statusUrl);
        return status.body.state === 'completed' ? status : undefined;
      },
      10_000,
      'completed',
    );
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      id: created.body.id,
      model: 'google/nano-banana-2/edit',
      tags: { costCenter: 'api' },
    });
    expect(done.body.result.outputs).toHaveLength(2);
    expect(done.body.result.costMicroUsd).toBe(160_000);
    expect(done.body.result.outputsExpireAt).toBeGreaterThan(Date.now());
    expect((await call('GET', '/v1/edits/no-such-job')).status).toBe(404);
    expect((await call('GET', `/v1/edits/${created.body.id}?queue=nope`)).body.code).toBe('UNKNOWN_QUEUE');
  });

  it('uses the queue, priority and delay it is given', async () => {
    const created = await call('POST', '/v1/edits', { ...proEdit(), queue: 'bulk', priority: 7, delayMs: 60_000 });
    expect(created.status).toBe(202);
    const status = await call('GET', created.body.statusUrl);
    expect(status.body).toMatchObject({ queue: 'bulk', state: 'delayed', priority: 7, step: 'queued' });
    expect((await call('DELETE', created.body.statusUrl)).body.outcome).toBe('removed');
  });

  it('answers 422 with the same issues as the producer', async () => {
    const bodies = [
      {
        model: 'google/nano-banana-pro/edit',
        input: { prompt: '', image_urls: ['ftp://x/y.png'], resolution: '8K', thinking_level: 'high' },
        notifyUrl: 'http://10.0.0.1/hook',
      },
      { model: 'google/nano-banana-9/edit', input: {} },
      { ...proEdit(), priority: 0, delayMs: 'soon' },
      { ...proEdit(), extra: true },
    ];
    for (const body of bodies) {
      const { queue: _q, priority, delayMs, ...request } = body as Record<string, unknown>;
      const expected = producer.validate(request, { priority, delayMs } as never);
      expect(expected.length).toBeGreaterThan(0);
      const response = await call('POST', '/v1/edits', body);
      expect(response.status).toBe(422);
      expect(response.body.issues).toEqual(JSON.parse(JSON.stringify(expected)));
      expect(response.body.code).toBe(body.model === 'google/nano-banana-9/edit' ? 'UNKNOWN_MODEL' : 'INVALID_INPUT');
    }
    const first = (await call('POST', '/v1/edits', bodies[0])).body;
    expect(first.issues.find((i: { path: string }) => i.path === 'input.resolution')).toEqual({
      path: 'input.resolution',
      value: '8K',
      message: 'Invalid option: expected one of "1K"|"2K"|"4K"',
      allowed: ['1K', '2K', '4K'],
    });
    expect(first.message).toContain('input.resolution: "8K"');
    const malformed = await call('POST', '/v1/edits', '{"model":');
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('MALFORMED_JSON');
    expect(await fleet.producer.queue('edits').getJobCounts('waiting', 'delayed', 'prioritized')).toEqual({
      waiting: 0,
      delayed: 0,
      prioritized: 0,
    });
  });

  it('maps Idempotency-Key to the same job, and a reused key with another body to 409', async () => {
    const headers = { 'idempotency-key': 'order-77-hero' };
    const first = await call('POST', '/v1/edits', proEdit(), headers);
    const second = await call('POST', '/v1/edits', proEdit(), headers);
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body.id).toBe(first.body.id);
    expect(second.body.deduplicated).toBe(true);
    const reused = await call('POST', '/v1/edits', proEdit('something else'), headers);
    expect(reused.status).toBe(409);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const conflict = await call('POST', '/v1/edits', { ...proEdit(), idempotencyKey: 'other' }, headers);
    expect(conflict.status).toBe(422);
    expect(conflict.body.issues[0].path).toBe('idempotencyKey');
  });

  it('enqueues a batch all or nothing, with errors by index', async () => {
    const before = await fleet.producer.queue('bulk').count();
    const bad = await call('POST', '/v1/edits:batch', {
      queue: 'bulk',
      items: [proEdit(), { ...nb2Edit(), input: { prompt: 'x', image_urls: [] } }, proEdit(), { model: 'nope' }],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.items.map((i: { index: number }) => i.index)).toEqual([1, 3]);
    expect(bad.body.issues.map((i: { path: string }) => i.path)).toEqual(['items.1.input.image_urls', 'items.3.model']);
    expect(await fleet.producer.queue('bulk').count()).toBe(before);

    const headers = { 'idempotency-key': 'import-2026-05-01' };
    const items = [proEdit('a'), nb2Edit(), proEdit('c')];
    const good = await call('POST', '/v1/edits:batch', { queue: 'bulk', items }, headers);
    expect(good.status).toBe(202);
    expect(good.body.items).toHaveLength(3);
    expect(good.body.items.map((i: { index: number }) => i.index)).toEqual([0, 1, 2]);
    const again = await call('POST', '/v1/edits:batch', { queue: 'bulk', items }, headers);
    expect(again.body.items.map((i: { id: string }) => i.id)).toEqual(good.body.items.map((i: { id: string }) => i.id));
    expect(again.body.items.every((i: { deduplicated: boolean }) => i.deduplicated)).toBe(true);
    for (const item of good.body.items) await producer.waitForResult('bulk', item.id, { timeoutMs: 10_000 });
    expect((await call('POST', '/v1/edits:batch', { items: [] })).status).toBe(422);
  });

  it('quotes a batch without enqueueing anything; invalid items answer as a batch would', async () => {
    const before = await fleet.producer.queue('bulk').count();
    const requests = before + fleet.sim.requestTimes().length;
    const quote = await call('POST', '/v1/edits:quote', {
      queue: 'bulk',
      items: [proEdit(), nb2Edit({ num_images: 2, thinking_level: 'high' })],
    });
    expect(quote.status).toBe(200);
    expect(quote.body).toMatchObject({ queue: 'bulk', count: 2, totalMicroUsd: 150_000 + 2 * 82_000, estimated: true });
    expect(quote.body.lines.map((l: { costMicroUsd: number }) => l.costMicroUsd)).toEqual([150_000, 164_000]);
    expect(quote.body.lines[1].estimates[0]).toMatch(/^thinking_level=high \+2000 µUSD\/image: /);
    expect(quote.body.budget).toBeUndefined();
    expect(quote.body.eta.etaMs).toBeGreaterThan(0);
    const bad = await call('POST', '/v1/edits:quote', { queue: 'bulk', items: [proEdit(), { model: 'nope' }] });
    expect(bad.status).toBe(422);
    expect(bad.body.issues.map((i: { path: string }) => i.path)).toEqual(['items.1.model']);
    expect((await call('POST', '/v1/edits:quote', { queue: 'nope', items: [proEdit()] })).body.code).toBe(
      'UNKNOWN_QUEUE',
    );
    expect((await fleet.producer.queue('bulk').count()) + fleet.sim.requestTimes().length).toBe(requests);
  });

  it('cancels: removes a queued job (200), abandons a submitted one (202), 409 once finished', async () => {
    const queued = await call('POST', '/v1/edits', proEdit(), {});
    // Too late to remove if the worker already took it: enqueue a delayed one to be sure.
    const delayed = await call('POST', '/v1/edits', { ...proEdit(), delayMs: 60_000 });
    const removed = await call('DELETE', delayed.body.statusUrl);
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ outcome: 'removed', id: delayed.body.id });
    expect((await call('GET', delayed.body.statusUrl)).status).toBe(404);
    expect((await call('DELETE', delayed.body.statusUrl)).status).toBe(404);

    fleet.sim.holdCallbacks(true);
    const submitted = await call('POST', '/v1/edits', proEdit('abandon me'));
    await waitFor(
      async () => {
        const s = (await call('GET', submitted.body.statusUrl)).body;
        return s.step === 'submitted' && s.state === 'delayed';
      },
      5_000,
      'parked',
    );
    const abandoned = await call('DELETE', submitted.body.statusUrl);
    expect(abandoned.status).toBe(202);
    expect(abandoned.body.outcome).toBe('abandoned');
    await releaseHeldCallbacks(fleet);
    const failed = await waitFor(
      async () => {
        const s = (await call('GET', submitted.body.statusUrl)).body;
        return s.state === 'failed' ? s : undefined;
      },
      10_000,
      'failed',
    );
    expect(failed.failure.code).toBe('JOB_ABANDONED');
    await producer.waitForResult('edits', queued.body.id, { timeoutMs: 10_000 });
    const finished = await call('DELETE', queued.body.statusUrl);
    expect(finished.status).toBe(409);
    expect(finished.body).toMatchObject({ code: 'JOB_ALREADY_FINISHED', outcome: 'already_finished' });
  });

  it('serves an OpenAPI 3.1 document that validates', async () => {
    const response = await call('GET', '/openapi.json', undefined, { authorization: '' });
    expect(response.status).toBe(200);
    const document = response.body as OpenAPIV3_1.Document;
    expect(document.openapi).toBe('3.1.0');
    const validated = (await SwaggerParser.validate(structuredClone(document))) as OpenAPIV3_1.Document;
    expect(Object.keys(validated.paths ?? {})).toEqual([
      '/v1/edits',
      '/v1/edits:batch',
      '/v1/edits:quote',
      '/v1/edits/{id}',
      '/v1/admin/health',
      '/v1/admin/pause',
      '/v1/admin/resume',
    ]);
    const create = document.components?.schemas?.CreateEdit as { oneOf: { properties: Record<string, unknown> }[] };
    expect(create.oneOf.map((o) => Object.keys(o.properties))).toEqual([
      expect.arrayContaining(['model', 'input', 'idempotencyKey', 'tags', 'notifyUrl', 'queue', 'priority', 'delayMs']),
      expect.arrayContaining(['model', 'input', 'notifyUrl']),
    ]);
  });
});
