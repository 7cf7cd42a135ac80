import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Sim, startSim } from './start-sim.ts';
import {
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

let sim: Sim;
let receiver: CallbackReceiver;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await sim.close();
  await receiver.close();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function start(respond?: (n: number) => number, extra: Parameters<typeof fastOptions>[0] = {}) {
  sim = await startSim(fastOptions(extra));
  receiver = await startReceiver(respond);
}

describe('retries', () => {
  it('retries on 500 with the configured delays and stops at the first 2xx (3 attempts recorded)', async () => {
    await start((n) => (n <= 2 ? 500 : 200));
    const created = await createRun(sim, PRO, editBody({}, { callback_url: receiver.url }));
    await pollUntilTerminal(sim, created.body.id);
    await sim.whenCallbacksSettled();

    const attempts = sim.getRun(created.body.id)?.deliveries ?? [];
    expect(attempts.map((a) => [a.attempt, a.statusCode])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    const [a, b, c] = receiver.received;
    expect(b.receivedAtMs - a.receivedAtMs).toBeGreaterThanOrEqual(45); // delaysMs[0] = 50
    expect(c.receivedAtMs - b.receivedAtMs).toBeGreaterThanOrEqual(95); // delaysMs[1] = 100
    // every attempt sends the same bytes, each validly signed
    expect(b.rawBody.equals(a.rawBody) && c.rawBody.equals(a.rawBody)).toBe(true);
    expect(c.headers['runflow-signature']).toBe(hmacHex('whsec_sim', c.rawBody));
    expect(sim.stats()).toMatchObject({ callbackAttempts: 3, callbacksDelivered: 1, callbacksFailed: 0 });
    // the control endpoint shows the same attempts
    const record = (await fetch(`${sim.url}/_sim/runs/${created.body.id}`).then((r) => r.json())) as {
      deliveries: { statusCode: number }[];
    };
    expect(record.deliveries.map((d) => d.statusCode)).toEqual([500, 500, 200]);
  });

  it('gives up after `attempts` when the receiver keeps failing', async () => {
    await start(() => 503);
    const created = await createRun(sim, PRO, editBody({}, { callback_url: receiver.url }));
    await pollUntilTerminal(sim, created.body.id);
    await sim.whenCallbacksSettled();
    await sleep(150); // longer than the last retry delay: no fourth attempt comes
    expect(receiver.received).toHaveLength(3);
    expect(sim.stats()).toMatchObject({ callbackAttempts: 3, callbacksDelivered: 0, callbacksFailed: 1 });
  });

  it('retries connection errors and timeouts, recording the error', async () => {
    await start(undefined, { callbackRetry: { attempts: 2, delaysMs: [10], timeoutMs: 100 } });
    // a receiver that accepts the request and never answers
    const silent = http.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise((resolve) => {
          silent.close(() => resolve());
          silent.closeAllConnections();
        }),
    );
    const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/cb`;
    // a port nobody listens on: take a free one and close it again
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const refusedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/cb`;
    await new Promise((resolve) => closed.close(resolve));

    const slow = await createRun(sim, PRO, editBody({}, { callback_url: silentUrl }));
    const refused = await createRun(sim, PRO, editBody({}, { callback_url: refusedUrl }));
    await pollUntilTerminal(sim, slow.body.id);
    await pollUntilTerminal(sim, refused.body.id);
    await sim.whenCallbacksSettled();

    const slowAttempts = sim.getRun(slow.body.id)?.deliveries ?? [];
    expect(slowAttempts).toHaveLength(2);
    expect(slowAttempts[0]).toMatchObject({ statusCode: null, error: expect.stringMatching(/timed out/) });
    expect(slowAttempts[0].durationMs).toBeGreaterThanOrEqual(95);
    const refusedAttempts = sim.getRun(refused.body.id)?.deliveries ?? [];
    expect(refusedAttempts).toHaveLength(2);
    expect(refusedAttempts[0]).toMatchObject({ statusCode: null, error: expect.stringMatching(/ECONNREFUSED/) });
    expect(sim.stats().callbacksFailed).toBe(2);
  });
});

describe('hold and release', () => {
  it('holds due callbacks until released, per run or all', async () => {
    await start();
    sim.holdCallbacks(true);
    const one = await createRun(sim, PRO, editBody({}, { callback_url: receiver.url }));
    const two = await createRun(sim, PRO, editBody({}, { callback_url: receiver.url }));
    await pollUntilTerminal(sim, one.body.id);
    await pollUntilTerminal(sim, two.body.id);
    await sim.whenCallbacksSettled(); // held callbacks do not keep this waiting
    await sleep(50);
    expect(receiver.received).toHaveLength(0);

    await sim.releaseCallbacks(two.body.id);
    expect(receiver.received.map((c) => c.body.run_id)).toEqual([two.body.id]);

    // over HTTP, as the demo does it
    const released = await fetch(`${sim.url}/_sim/release-callbacks`, { method: 'POST', body: '{}' });
    expect(released.status).toBe(200);
    expect(receiver.received.map((c) => c.body.run_id)).toEqual([two.body.id, one.body.id]);
    expect(sim.stats().callbacksDelivered).toBe(2);
  });

  it('turning hold off sends what was held', async () => {
    await start();
    sim.holdCallbacks(true);
    const created = await createRun(sim, PRO, editBody({}, { callback_url: receiver.url }));
    await pollUntilTerminal(sim, created.body.id);
    await sleep(30);
    expect(receiver.received).toHaveLength(0);
    sim.holdCallbacks(false);
    await receiver.waitFor(1);
  });
});

describe('signing', () => {
  it('reads the signer at send time: a retry after a rotation is signed with the new secret', async () => {
    await start((n) => {
      if (n === 1) sim.setSigningSecret('whsec_rotated');
      return n === 1 ? 500 : 200;
    });
    const created = await createRun(sim, PRO, editBody({}, { callback_url: receiver.url }));
    await pollUntilTerminal(sim, created.body.id);
    const [first, second] = await receiver.waitFor(2);
    expect(second.rawBody.equals(first.rawBody)).toBe(true);
    expect(first.headers['runflow-signature']).toBe(hmacHex('whsec_sim', first.rawBody));
    expect(second.headers['runflow-signature']).toBe(hmacHex('whsec_rotated', second.rawBody));
    expect(second.headers['runflow-signature']).not.toBe(first.headers['runflow-signature']);
  });

  it('a run that finishes after setSigningSecret is signed by the new secret; null sends no signature', async () => {
    await start(undefined, { latencyMs: { min: 100, max: 100 } });
    const created = await createRun(sim, PRO, editBody({}, { callback_url: receiver.url }));
    sim.setSigningSecret('whsec_new');
    const [callback] = await receiver.waitFor(1);
    expect(callback.body.run_id).toBe(created.body.id);
    expect(callback.headers['runflow-signature']).toBe(hmacHex('whsec_new', callback.rawBody));

    sim.setSigningSecret(null);
    await createRun(sim, PRO, editBody({}, { callback_url: receiver.url }));
    const [, unsigned] = await receiver.waitFor(2);
    expect(unsigned.headers['runflow-signature']).toBeUndefined();
    await sim.whenCallbacksSettled(); // the attempt is recorded once the receiver's answer is read
    expect(sim.getRun(unsigned.body.run_id as string)?.deliveries[0].signed).toBe(false);
  });
});

describe('outputShape and cancelSpelling', () => {
  it('image_urls shape in run and callback; cancelled spelled as configured', async () => {
    await start(undefined, { outputShape: 'image_urls', cancelSpelling: 'cancelled' });
    const created = await createRun(sim, PRO, editBody({ num_images: 2 }, { callback_url: receiver.url }));
    const done = await pollUntilTerminal(sim, created.body.id);
    expect(done.body.output).toEqual({
      image_urls: [`${sim.url}/outputs/${created.body.id}/0.png`, `${sim.url}/outputs/${created.body.id}/1.png`],
    });
    const [callback] = await receiver.waitFor(1);
    expect(callback.body.output).toEqual(done.body.output);

    sim.setLatency({ min: 2000, max: 2000 });
    const slow = await createRun(sim, PRO, editBody({}, { callback_url: receiver.url }));
    expect(sim.cancelRun(slow.body.id)?.status_code).toBe('cancelled');
    const [, cancelled] = await receiver.waitFor(2);
    expect(cancelled.body).toMatchObject({ event: 'run.cancelled', status: 'cancelled', output: null });
  });
});

describe('close', () => {
  it('cancels pending lifecycle timers and callback deliveries', async () => {
    await start(undefined, { faults: { callbackDelay: 1, callbackDelayMs: 100 } });
    const created = await createRun(sim, PRO, editBody({}, { callback_url: receiver.url }));
    await pollUntilTerminal(sim, created.body.id);
    sim.setLatency({ min: 100, max: 100 });
    await createRun(sim, PRO, editBody({}, { callback_url: receiver.url }));
    await sim.close();
    await sleep(200);
    expect(receiver.received).toHaveLength(0);
    await sim.whenCallbacksSettled(); // nothing is pending any more
  });
});
