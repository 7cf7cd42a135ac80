import { afterEach, describe, expect, it } from 'vitest';
import type { SimFaults } from './sim-options.ts';
import { type Sim, startSim } from './start-sim.ts';
import {
  api,
  type CallbackReceiver,
  createRun,
  editBody,
  fastOptions,
  hmacHex,
  PRO,
  pollUntilTerminal,
  sleep,
  startReceiver,
} from './test-support.ts';

// Every fault at probability 1, each on its own simulator so counters start at zero.

let sim: Sim;
let receiver: CallbackReceiver;

async function start(faults: Partial<SimFaults>, extra: Parameters<typeof fastOptions>[0] = {}): Promise<void> {
  sim = await startSim(fastOptions({ faults, ...extra }));
  receiver = await startReceiver();
}

afterEach(async () => {
  await sim.close();
  await receiver.close();
});

describe('create and get faults', () => {
  it('createServerError: 5xx in the error envelope, and no run is created', async () => {
    await start({ createServerError: 1 });
    for (let i = 0; i < 5; i++) {
      const response = await createRun(sim, PRO, editBody());
      expect([500, 502, 503]).toContain(response.status);
      expect(response.body).toEqual({ code: expect.any(String), message: expect.any(String), errors: null });
    }
    const stats = sim.stats();
    expect(stats.runsCreated).toBe(0);
    expect(stats.createRequests).toBe(5);
    expect(stats.faultsInjected.createServerError).toBe(5);
    expect(sim.runs()).toHaveLength(0);
  });

  it('createRateLimited: 429 RATE_LIMITED without Retry-After, and no run is created', async () => {
    await start({ createRateLimited: 1 });
    const response = await createRun(sim, PRO, editBody());
    expect(response.status).toBe(429);
    expect(response.body.code).toBe('RATE_LIMITED');
    expect(response.body.message).toMatch(/^Rate limit exceeded: /);
    expect(response.headers.get('retry-after')).toBeNull();
    expect(sim.stats().runsCreated).toBe(0);
  });

  it('getServerError and getRateLimited hit GET /v1/runs/{id} but not creation', async () => {
    await start({ getServerError: 1 });
    const created = await createRun(sim, PRO, editBody());
    expect(created.status).toBe(201);
    expect([500, 502, 503]).toContain((await api(sim, `/v1/runs/${created.body.id}`)).status);
    sim.setFaults({ getServerError: 0, getRateLimited: 1 });
    const limited = await api(sim, `/v1/runs/${created.body.id}`);
    expect(limited).toMatchObject({ status: 429, body: { code: 'RATE_LIMITED' } });
    sim.clearFaults();
    expect((await api(sim, `/v1/runs/${created.body.id}`)).status).toBe(200);
    expect(sim.stats().faultsInjected).toMatchObject({ getServerError: 1, getRateLimited: 1 });
  });

  it('resetAfterCreate: the client sees a socket error, yet the run exists, bills and calls back', async () => {
    await start({ resetAfterCreate: 1 });
    const body = editBody({}, { callback_url: receiver.url, client_ref: 'ambiguous-1' });
    const error = await createRun(sim, PRO, body, { 'idempotency-key': 'amb-1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError); // fetch failed: the socket closed with no response
    expect(sim.stats().responsesByStatus['201']).toBeUndefined();

    const [run] = sim.runs();
    expect(run.client_ref).toBe('ambiguous-1');
    await sim.whenCallbacksSettled();
    expect(sim.getRun(run.id)?.status_code).toBe('succeeded');
    expect(sim.billing().entries.map((e) => e.runId)).toEqual([run.id]);
    expect(receiver.received.map((c) => c.body.run_id)).toEqual([run.id]);

    // the retry with the same Idempotency-Key adopts the run instead of paying twice
    sim.clearFaults();
    const retry = await createRun(sim, PRO, body, { 'idempotency-key': 'amb-1' });
    expect(retry.status).toBe(201);
    expect(retry.body.id).toBe(run.id);
    expect(sim.runs()).toHaveLength(1);
  });

  it('runFailed: failed with failure fields, cost 0, not billed, callback output is the error envelope', async () => {
    await start({ runFailed: 1 });
    const created = await createRun(sim, PRO, editBody({}, { callback_url: receiver.url }));
    const done = await pollUntilTerminal(sim, created.body.id);
    expect(done.body).toMatchObject({
      status_code: 'failed',
      failure_code: 'PROVIDER_ERROR',
      failure_message: expect.any(String),
      failure_stage_code: 'running',
      cost: '0.000000',
    });
    const [callback] = await receiver.waitFor(1);
    expect(callback.body).toMatchObject({
      event: 'run.failed',
      status: 'failed',
      output: { code: 'PROVIDER_ERROR', message: expect.any(String) },
    });
    expect(sim.billing().entries).toHaveLength(0);
    expect(sim.getRun(created.body.id)?.billed).toBe(false);
  });
});

describe('callback faults', () => {
  it('callbackDrop: the run finishes and no delivery is ever attempted', async () => {
    await start({ callbackDrop: 1 });
    const created = await createRun(sim, PRO, editBody({}, { callback_url: receiver.url }));
    await pollUntilTerminal(sim, created.body.id);
    await sim.whenCallbacksSettled();
    await sleep(100);
    expect(receiver.received).toHaveLength(0);
    expect(sim.getRun(created.body.id)?.deliveries).toEqual([]);
    expect(sim.stats()).toMatchObject({ callbacksDropped: 1, callbackAttempts: 0 });
  });

  it('callbackDuplicate: two identical, validly signed deliveries', async () => {
    await start({ callbackDuplicate: 1 });
    const created = await createRun(sim, PRO, editBody({}, { callback_url: receiver.url }));
    const [first, second] = await receiver.waitFor(2);
    await sim.whenCallbacksSettled();
    expect(receiver.received).toHaveLength(2);
    expect(first.body.run_id).toBe(created.body.id);
    expect(second.rawBody.equals(first.rawBody)).toBe(true);
    for (const copy of [first, second]) {
      expect(copy.headers['runflow-signature']).toBe(hmacHex('whsec_sim', copy.rawBody));
    }
    expect(sim.stats()).toMatchObject({ callbacksDuplicated: 1, callbacksDelivered: 2 });
  });

  it('callbackDelay: delivery starts callbackDelayMs after the run is terminal', async () => {
    await start({ callbackDelay: 1, callbackDelayMs: 300 });
    const created = await createRun(sim, PRO, editBody({}, { callback_url: receiver.url }));
    const done = await pollUntilTerminal(sim, created.body.id);
    expect(receiver.received).toHaveLength(0);
    const [callback] = await receiver.waitFor(1);
    expect(callback.receivedAtMs - Date.parse(done.body.completed_at)).toBeGreaterThanOrEqual(290);
  });

  it('callbackOutOfOrder: the duplicate lands before the original', async () => {
    await start({ callbackOutOfOrder: 1 });
    const created = await createRun(sim, PRO, editBody({}, { callback_url: receiver.url }));
    const [first, second] = await receiver.waitFor(2);
    await sim.whenCallbacksSettled();
    const attempts = sim.getRun(created.body.id)?.deliveries ?? [];
    const requestIdOfCopy = (copy: number) => attempts.find((a) => a.copy === copy)?.requestId;
    expect(first.headers['runflow-request-id']).toBe(requestIdOfCopy(2));
    expect(second.headers['runflow-request-id']).toBe(requestIdOfCopy(1));
    expect(second.rawBody.equals(first.rawBody)).toBe(true);
    expect(sim.stats().faultsInjected.callbackOutOfOrder).toBe(1);
  });
});

describe('rate limit', () => {
  it('5/s: a burst of 20 gets 15 429s (burst = the rate), counted in stats, no Retry-After by default', async () => {
    await start({}, { rateLimitPerSecond: 5 });
    const responses = await Promise.all(Array.from({ length: 20 }, () => api(sim, '/v1/runs/unknown')));
    const limited = responses.filter((r) => r.status === 429);
    // a token refills every 200 ms; the burst lands well inside one, give or take one slow request
    expect(limited.length).toBeGreaterThanOrEqual(14);
    expect(limited.length).toBeLessThanOrEqual(15);
    expect(responses.filter((r) => r.status === 404).length).toBe(20 - limited.length);
    expect(limited[0].body).toMatchObject({ code: 'RATE_LIMITED', errors: null });
    expect(limited[0].headers.get('retry-after')).toBeNull();
    expect(sim.stats().rateLimited).toBe(limited.length);
    // the control endpoints are not limited
    expect((await fetch(`${sim.url}/_sim/stats`)).status).toBe(200);
  });

  it('retryAfter: 429s carry Retry-After in seconds; lifting the limit lets requests through', async () => {
    await start({}, { rateLimitPerSecond: 1, retryAfter: true });
    await api(sim, '/v1/runs/unknown');
    const limited = await api(sim, '/v1/runs/unknown');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    sim.setRateLimit(undefined);
    expect((await api(sim, '/v1/runs/unknown')).status).toBe(404);
  });
});

describe('POST /_sim/config', () => {
  it('applies valid changes at runtime and rejects invalid ones without applying any', async () => {
    await start({});
    const post = (body: unknown) =>
      fetch(`${sim.url}/_sim/config`, { method: 'POST', body: JSON.stringify(body) }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { config?: unknown },
      }));

    const rejected = await post({ faults: { createServerError: 1 }, latencyMs: { min: 10, max: 5 } });
    expect(rejected.status).toBe(400);
    expect(sim.config().faults.createServerError).toBe(0);
    expect((await post({ bogus: 1 })).status).toBe(400);

    const applied = await post({ faults: { createServerError: 1 }, signingSecret: null, rateLimitPerSecond: 100 });
    expect(applied.status).toBe(200);
    expect(applied.body.config).toMatchObject({ signing: false, rateLimitPerSecond: 100 });
    expect([500, 502, 503]).toContain((await createRun(sim, PRO, editBody())).status);

    await post({ faults: null });
    expect((await createRun(sim, PRO, editBody())).status).toBe(201);
  });
});
