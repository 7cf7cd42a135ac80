import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sim, startSim } from './start-sim.ts';
import {
  api,
  type CallbackReceiver,
  createRun,
  editBody,
  fastOptions,
  hmacHex,
  IMAGE_URL,
  NB2,
  PRO,
  pollUntilTerminal,
  sleep,
  startReceiver,
} from './test-support.ts';

const ISO_PYTHON = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let sim: Sim;
let receiver: CallbackReceiver;

beforeAll(async () => {
  sim = await startSim(fastOptions());
  receiver = await startReceiver();
});
afterAll(async () => {
  await sim.close();
  await receiver.close();
});

describe('create → poll → succeeded', () => {
  it('answers 201 queued with the full run object, then succeeds with outputs and cost', async () => {
    const created = await createRun(
      sim,
      PRO,
      editBody({}, { callback_url: receiver.url, metadata: { queue: 'edits', jobId: 'j1' }, client_ref: 'ref-1' }),
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status_code: 'queued',
      target_type: 'model',
      source_code: 'api',
      output: null,
      cost: null,
      client_ref: 'ref-1',
      metadata: { queue: 'edits', jobId: 'j1' },
      callback_url: receiver.url,
      started_at: null,
      completed_at: null,
      batch_id: null,
    });
    expect(created.body.id).toMatch(UUID_V7);
    expect(created.body.created_at).toMatch(ISO_PYTHON);

    const done = await pollUntilTerminal(sim, created.body.id);
    expect(done.body.status_code).toBe('succeeded');
    expect(done.body.cost).toBe('0.150000');
    expect(done.body.output.outputs).toHaveLength(1);
    expect(done.body.output.outputs[0]).toEqual({
      url: `${sim.url}/outputs/${created.body.id}/0.png`,
      type: 'image',
    });
    expect(done.body.completed_at).toMatch(ISO_PYTHON);
    expect(done.body.duration_ms).toBeGreaterThanOrEqual(0);
    expect(Date.parse(done.body.completed_at)).toBeGreaterThanOrEqual(Date.parse(done.body.started_at));
    // model_id is a uuid, not the slug, and stays the same for the model
    expect(done.body.model_id).toMatch(/^[0-9a-f-]{36}$/);

    const [callback] = await receiver.waitFor(1);
    expect(callback.body).toMatchObject({
      event: 'run.completed',
      run_id: created.body.id,
      status: 'succeeded',
      metadata: { queue: 'edits', jobId: 'j1' },
      output: done.body.output,
      completed_at: done.body.completed_at,
    });
    expect(callback.headers['content-type']).toBe('application/json');
    expect(callback.headers['runflow-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(callback.headers['runflow-signature']).toBe(hmacHex('whsec_sim', callback.rawBody));
    expect(callback.headers['runflow-signature']).not.toBe(hmacHex('whsec_other', callback.rawBody));

    await sim.whenCallbacksSettled();
    expect(receiver.received.filter((c) => c.body.run_id === created.body.id)).toHaveLength(1);
  });

  it('bills 2 images of nano-banana-2 with web search at 2 × (80000 + 15000) µUSD', async () => {
    const created = await createRun(
      sim,
      NB2,
      editBody({ num_images: 2, enable_web_search: true, output_format: 'webp' }),
    );
    const done = await pollUntilTerminal(sim, created.body.id);
    expect(done.body.cost).toBe('0.190000');
    expect(done.body.cost_breakdown).toMatchObject({
      images: 2,
      base_micro_usd: 160_000,
      surcharges: [{ name: 'enable_web_search', micro_usd: 30_000 }],
      total_micro_usd: 190_000,
    });
    expect(done.body.output.outputs.map((o: { url: string }) => o.url)).toEqual([
      `${sim.url}/outputs/${created.body.id}/0.webp`,
      `${sim.url}/outputs/${created.body.id}/1.webp`,
    ]);
    const entry = sim.billing().entries.find((e) => e.runId === created.body.id);
    expect(entry).toMatchObject({ model: NB2, images: 2, costMicroUsd: 190_000 });
  });

  it('serves real image bytes for each output format', async () => {
    const magic: Record<string, (bytes: Buffer) => boolean> = {
      png: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
      jpeg: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff && b.at(-2) === 0xff && b.at(-1) === 0xd9,
      webp: (b) => b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 15) === 'WEBPVP8',
    };
    for (const format of ['png', 'jpeg', 'webp']) {
      const created = await createRun(sim, PRO, editBody({ output_format: format }));
      const done = await pollUntilTerminal(sim, created.body.id);
      const response = await fetch(done.body.output.outputs[0].url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(`image/${format}`);
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(magic[format](bytes), format).toBe(true);
    }
    // an index the run did not produce does not exist
    const created = await createRun(sim, PRO, editBody());
    await pollUntilTerminal(sim, created.body.id);
    expect((await fetch(`${sim.url}/outputs/${created.body.id}/1.png`)).status).toBe(404);
    expect((await fetch(`${sim.url}/outputs/${created.body.id}/0.jpeg`)).status).toBe(404);
  });

  it('returns data URIs for sync_mode runs', async () => {
    const created = await createRun(sim, PRO, editBody({ sync_mode: true, output_format: 'jpeg' }));
    const done = await pollUntilTerminal(sim, created.body.id);
    expect(done.body.output.outputs[0].url).toMatch(/^data:image\/jpeg;base64,\/9j\//);
  });
});

describe('lifecycle timing', () => {
  it('spends about a fifth of the latency queued, the rest running', async () => {
    sim.setLatency({ min: 200, max: 200 });
    try {
      const created = await createRun(sim, PRO, editBody());
      expect((await api(sim, `/v1/runs/${created.body.id}`)).body.status_code).toBe('queued');
      await sleep(100);
      const running = await api(sim, `/v1/runs/${created.body.id}`);
      expect(running.body).toMatchObject({ status_code: 'running', completed_at: null, cost: null });
      expect(running.body.started_at).toMatch(ISO_PYTHON);
      const done = await pollUntilTerminal(sim, created.body.id);
      expect(done.body.duration_ms).toBeGreaterThanOrEqual(195);
      expect(done.body.output.timing.inference_ms).toBeGreaterThanOrEqual(150);
    } finally {
      sim.setLatency({ min: 0, max: 20 });
    }
  });

  it('latency 0–0 reaches terminal on the next timer tick', async () => {
    sim.setLatency({ min: 0, max: 0 });
    try {
      const created = await createRun(sim, PRO, editBody());
      await sleep(5);
      expect(sim.getRun(created.body.id)?.status_code).toBe('succeeded');
    } finally {
      sim.setLatency({ min: 0, max: 20 });
    }
  });
});

describe('errors', () => {
  it('401 without a key or with a wrong one, in the error envelope', async () => {
    expect((await createRun(sim, PRO, editBody())).status).toBe(201); // control: the right key works
    for (const apiKey of [null, 'wrong-key']) {
      const denied = await api(sim, `/v1/models/${PRO}/runs`, {
        method: 'POST',
        body: JSON.stringify(editBody()),
        apiKey,
      });
      expect(denied.status).toBe(401);
      expect(denied.body).toEqual({ code: 'UNAUTHORIZED', message: expect.any(String), errors: null });
    }
    expect((await api(sim, '/v1/runs/x', { apiKey: null })).status).toBe(401);
    // health needs no key
    const health = await api(sim, '/v1/health', { apiKey: null });
    expect(health).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('404 RUN_NOT_FOUND for an unknown run', async () => {
    const response = await api(sim, '/v1/runs/0190a000-0000-7000-8000-000000000000');
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ code: 'RUN_NOT_FOUND', errors: null });
  });

  it('422 VALIDATION_ERROR with errors[] for an invalid input, and nothing is created', async () => {
    const before = sim.stats().runsCreated;
    const response = await createRun(sim, PRO, editBody({ resolution: '8K' }));
    expect(response.status).toBe(422);
    expect(response.body.code).toBe('VALIDATION_ERROR');
    expect(response.body.errors).toContainEqual(expect.objectContaining({ loc: ['input', 'resolution'] }));
    // 0.5K exists on nano-banana-2 but not on pro; thinking_level is nano-banana-2 only
    const wrongModel = await createRun(sim, PRO, editBody({ thinking_level: 'high' }));
    expect(wrongModel.status).toBe(422);
    expect(wrongModel.body.errors).toContainEqual(expect.objectContaining({ loc: ['input', 'thinking_level'] }));
    const missing = await createRun(sim, PRO, { callback_url: 'ftp://x' });
    expect(missing.status).toBe(422);
    expect(missing.body.errors.map((e: { loc: string[] }) => e.loc)).toEqual([['input'], ['callback_url']]);
    const longRef = await createRun(sim, PRO, editBody({}, { client_ref: 'x'.repeat(256) }));
    expect(longRef.status).toBe(422);
    expect(longRef.body.errors[0].loc).toEqual(['client_ref']);
    expect(sim.stats().runsCreated).toBe(before);
  });

  it('400 on malformed JSON, 404 on an unknown model, 405 on a one-segment model path or a wrong method', async () => {
    const malformed = await api(sim, `/v1/models/${PRO}/runs`, { method: 'POST', body: '{"input":' });
    expect(malformed).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST' } });
    const unknownModel = await createRun(sim, 'acme/unknown-model', editBody());
    expect(unknownModel).toMatchObject({ status: 404, body: { code: 'MODEL_NOT_FOUND' } });
    const bareSlug = await createRun(sim, 'nano-banana-pro', editBody());
    expect(bareSlug.status).toBe(405);
    const getOnCreate = await api(sim, `/v1/models/${PRO}/runs`);
    expect(getOnCreate.status).toBe(405);
    const unknownPath = await api(sim, '/v1/nothing-here');
    expect(unknownPath).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
  });
});

describe('idempotency', () => {
  it('honour: same key and body → the same run and one billing entry; a different body → 409', async () => {
    const headers = { 'idempotency-key': 'key-honour-1' };
    const first = await createRun(
      sim,
      PRO,
      { input: { prompt: 'blue', image_urls: [IMAGE_URL] }, client_ref: 'idem-1' },
      headers,
    );
    // the same body with its keys in another order is the same request
    const second = await createRun(
      sim,
      PRO,
      { client_ref: 'idem-1', input: { image_urls: [IMAGE_URL], prompt: 'blue' } },
      headers,
    );
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body.id).toBe(first.body.id);

    const conflict = await createRun(sim, PRO, editBody({ prompt: 'make it red' }), headers);
    expect(conflict).toMatchObject({ status: 409, body: { code: 'CONFLICT' } });

    await pollUntilTerminal(sim, first.body.id);
    expect(sim.runs().filter((r) => r.idempotencyKey === 'key-honour-1')).toHaveLength(1);
    expect(sim.billing().entries.filter((e) => e.clientRef === 'idem-1')).toHaveLength(1);
  });

  it('ignore: every POST makes a run', async () => {
    sim.setIdempotency('ignore');
    try {
      const headers = { 'idempotency-key': 'key-ignore-1' };
      const first = await createRun(sim, PRO, editBody(), headers);
      const second = await createRun(sim, PRO, editBody(), headers);
      expect(second.body.id).not.toBe(first.body.id);
      expect(sim.runs().filter((r) => r.idempotencyKey === 'key-ignore-1')).toHaveLength(2);
    } finally {
      sim.setIdempotency('honour');
    }
  });
});

describe('cancellation', () => {
  it('cancels a queued run (201), then answers 200 unchanged; the callback is run.cancelled and nothing bills', async () => {
    sim.setLatency({ min: 5000, max: 5000 });
    const created = await createRun(sim, PRO, editBody({}, { callback_url: receiver.url }));
    sim.setLatency({ min: 0, max: 20 });
    const path = `/v1/admin/runs/${created.body.id}/cancellation`;
    const cancelled = await api(sim, path, { method: 'POST', body: JSON.stringify({ reason: 'stuck run' }) });
    expect(cancelled.status).toBe(201);
    expect(cancelled.body).toMatchObject({ status_code: 'canceled', cost: '0.000000' });
    const again = await api(sim, path, { method: 'POST', body: '{}' });
    expect(again.status).toBe(200);
    await sim.whenCallbacksSettled();
    const callback = receiver.received.find((c) => c.body.run_id === created.body.id);
    expect(callback?.body).toMatchObject({ event: 'run.cancelled', status: 'canceled', output: null });
    expect(sim.getRun(created.body.id)?.billed).toBe(false);
  });
});

describe('billing', () => {
  it('totals equal the sum of the succeeded runs’ costs, by model, day and queue', async () => {
    const ids: string[] = [];
    for (const [model, input, queue] of [
      [PRO, { num_images: 3 }, 'a'],
      [NB2, { thinking_level: 'high' }, 'b'],
      [NB2, {}, 'a'],
    ] as const) {
      const created = await createRun(sim, model, editBody(input, { metadata: { queue } }));
      ids.push(created.body.id);
    }
    for (const id of ids) await pollUntilTerminal(sim, id);

    const billing = sim.billing();
    const runs = sim.runs().filter((r) => r.status_code === 'succeeded');
    const sumOfCosts = runs.reduce((sum, r) => sum + Math.round(Number(r.cost) * 1e6), 0);
    expect(billing.totalMicroUsd).toBe(sumOfCosts);
    expect(billing.entries).toHaveLength(runs.length);
    expect(Object.values(billing.byModel).reduce((a, b) => a + b, 0)).toBe(billing.totalMicroUsd);
    expect(Object.values(billing.byDay).reduce((a, b) => a + b, 0)).toBe(billing.totalMicroUsd);
    // only the three runs above carry queues a and b: a = 3 × 150000 + 80000, b = 80000 + 2000
    expect(billing.byQueue.a).toBe(530_000);
    expect(billing.byQueue.b).toBe(82_000);

    const overHttp = (await fetch(`${sim.url}/_sim/billing`).then((r) => r.json())) as { totalMicroUsd: number };
    expect(overHttp.totalMicroUsd).toBe(billing.totalMicroUsd);
  });
});
