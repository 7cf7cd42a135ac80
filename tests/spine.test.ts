import { CALLBACK_PATH } from '@runflow-queue/callback-ingest';
import { signBody } from '@runflow-queue/runflow-sim';
import { EditValidationError, failureCode, RunflowQueueError } from '@runflow-queue/shared';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Fleet,
  type FleetOptions,
  nb2Edit,
  proEdit,
  releaseHeldCallbacks,
  startFleet,
  waitFor,
} from './support/fleet.ts';

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

async function start(options: FleetOptions = {}): Promise<Fleet> {
  fleet = await startFleet(options);
  return fleet;
}

describe('the spine: producer → worker → Runflow → signed callback → completed', () => {
  it('runs both models end to end and settles exactly what the simulator billed', async () => {
    const f = await start();
    const pro = await f.producer.enqueueEdit('edits', proEdit());
    const nb2 = await f.producer.enqueueEdit(
      'edits',
      nb2Edit({ num_images: 2, enable_web_search: true, output_format: 'webp' }),
    );
    const proResult = await f.producer.waitForResult('edits', pro.id, { timeoutMs: 15_000 });
    const nb2Result = await f.producer.waitForResult('edits', nb2.id, { timeoutMs: 15_000 });

    expect(proResult.completedBy).toBe('callback');
    expect(proResult.outputs).toHaveLength(1);
    expect(proResult.costMicroUsd).toBe(150_000);
    expect(nb2Result.outputs).toHaveLength(2);
    expect(nb2Result.outputs[0].url).toMatch(/\.webp$/);
    expect(nb2Result.costMicroUsd).toBe(190_000);

    const image = await fetch(proResult.outputs[0].url);
    expect(image.status).toBe(200);
    expect(
      Buffer.from(await image.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');

    expect(f.sim.stats().runsCreated).toBe(2);
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(340_000);
    expect(f.sim.billing().totalMicroUsd).toBe(340_000);
  });

  it('completes when the callback lands before the worker parks (the worker promotes itself)', async () => {
    let inbox: Fleet['inbox'] | undefined;
    const f = await start({
      sim: { latencyMs: { min: 0, max: 0 } },
      hooks: {
        // Hold the worker between submit and moveToDelayed until the callback is in the inbox.
        beforePark: async (_job, data) => {
          if (data.step !== 'submitted' || !data.runId) return;
          const runId = data.runId;
          await waitFor(() => (inbox as Fleet['inbox']).has('edits', runId), 5_000, 'callback stored');
        },
      },
    });
    inbox = f.inbox;
    const started = Date.now();
    const handle = await f.producer.enqueueEdit('edits', proEdit());
    const result = await f.producer.waitForResult('edits', handle.id, { timeoutMs: 8_000 });
    expect(result.completedBy).toBe('callback');
    // firstPollDelayMs is 10 s: finishing well before it means nobody waited for a poll.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('completes when the callback lands after the worker parked (ingest promotes)', async () => {
    const f = await start({ sim: { latencyMs: { min: 0, max: 0 } } });
    f.sim.holdCallbacks(true);
    const handle = await f.producer.enqueueEdit('edits', proEdit());
    const queue = f.producer.queue('edits');
    await waitFor(
      async () =>
        (await queue.getJob(handle.id))?.data.step === 'submitted' &&
        (await queue.getJobState(handle.id)) === 'delayed',
      5_000,
      'job parked',
    );
    const released = Date.now();
    await releaseHeldCallbacks(f);
    const result = await f.producer.waitForResult('edits', handle.id, { timeoutMs: 8_000 });
    expect(result.completedBy).toBe('callback');
    expect(Date.now() - released).toBeLessThan(3_000);
  });

  it('acknowledges a duplicate callback and settles once', async () => {
    const f = await start({ sim: { faults: { callbackDuplicate: 1 } } });
    const handle = await f.producer.enqueueEdit('edits', proEdit());
    await f.producer.waitForResult('edits', handle.id, { timeoutMs: 10_000 });
    await f.sim.whenCallbacksSettled();
    expect(await f.inbox.counters('edits')).toMatchObject({ received: 1, duplicate: 1 });
    const rows = await f.ledger.rows(['edits']);
    expect(rows.reduce((n, row) => n + row.completed, 0)).toBe(1);
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(150_000);
  });

  it('completes a job whose callback was lost, by polling', async () => {
    const f = await start({ sim: { faults: { callbackDrop: 1 } }, lifecycle: { firstPollDelayMs: 300 } });
    const handle = await f.producer.enqueueEdit('edits', nb2Edit());
    const result = await f.producer.waitForResult('edits', handle.id, { timeoutMs: 10_000 });
    expect(result.completedBy).toBe('poll');
    expect(result.costMicroUsd).toBe(80_000);
    expect(f.sim.billing().totalMicroUsd).toBe(await f.ledger.totalMicroUsd(['edits']));
  });

  it('backs off on 5xx and then succeeds with a single run', async () => {
    const f = await start({ sim: { faults: { createServerError: 1 } } });
    const handle = await f.producer.enqueueEdit('edits', proEdit());
    const queue = f.producer.queue('edits');
    await waitFor(async () => ((await queue.getJob(handle.id))?.data.transientErrors ?? 0) >= 2, 5_000, 'two 5xx');
    f.sim.clearFaults();
    const result = await f.producer.waitForResult('edits', handle.id, { timeoutMs: 10_000 });
    expect(result.costMicroUsd).toBe(150_000);
    expect(f.sim.stats().runsCreated).toBe(1);
    const job = await queue.getJob(handle.id);
    // One attempt: the one that completed. Backing off from 5xx by parking burned none.
    expect(job?.attemptsMade).toBe(1);
    expect(job?.data.transientErrors).toBe(0);
  });

  it('fails a job at once with Runflow’s code on a 4xx, without retrying', async () => {
    const f = await start({ apiKey: 'revoked-key' });
    const handle = await f.producer.enqueueEdit('edits', proEdit());
    const error = await f.producer.waitForResult('edits', handle.id, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect((error as { code: string }).code).toBe('UNAUTHORIZED');
    const job = await f.producer.queue('edits').getJob(handle.id);
    expect(failureCode(job?.failedReason)).toBe('UNAUTHORIZED');
    expect(f.sim.stats().createRequests).toBe(1);
    expect(f.sim.stats().runsCreated).toBe(0);
  });

  it('answers a forged callback with 401, stores nothing and leaves the job parked', async () => {
    const f = await start();
    f.sim.holdCallbacks(true);
    const handle = await f.producer.enqueueEdit('edits', proEdit());
    const queue = f.producer.queue('edits');
    const job = await waitFor(
      async () => {
        const j = await queue.getJob(handle.id);
        return j?.data.runId && (await queue.getJobState(handle.id)) === 'delayed' ? j : undefined;
      },
      5_000,
      'job parked',
    );
    const runId = job.data.runId as string;
    const body = JSON.stringify({
      event: 'run.completed',
      run_id: runId,
      status: 'succeeded',
      output: { outputs: [{ url: 'https://evil.example/x.png', type: 'image' }] },
      metadata: { queue: 'edits', jobId: handle.id, clientRef: job.data.clientRef },
    });
    for (const signature of [signBody('not-the-secret', body), undefined]) {
      const response = await fetch(`${f.ingestUrl}${CALLBACK_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(signature ? { 'runflow-signature': signature } : {}) },
        body,
      });
      expect(response.status).toBe(401);
    }
    expect(await f.inbox.has('edits', runId)).toBe(false);
    expect(await queue.getJobState(handle.id)).toBe('delayed');
    await releaseHeldCallbacks(f);
    const result = await f.producer.waitForResult('edits', handle.id, { timeoutMs: 10_000 });
    expect(result.outputs[0].url).not.toContain('evil');
  });

  it('rejects invalid input naming each field, value and allowed values; enqueues nothing', async () => {
    const f = await start({ workers: false });
    const error = await f.producer
      .enqueueEdit('edits', {
        model: 'google/nano-banana-pro/edit',
        // @ts-expect-error — invalid on purpose: 0.5K is nano-banana-2 only, thinking_level unknown here
        input: { prompt: '', image_urls: ['ftp://x/y.png'], resolution: '0.5K', num_images: 5, thinking_level: 'high' },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EditValidationError);
    const issues = (error as EditValidationError).issues;
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'input.prompt',
        'input.image_urls.0',
        'input.resolution',
        'input.num_images',
        'input.thinking_level',
      ]),
    );
    expect(issues.find((i) => i.path === 'input.resolution')).toMatchObject({
      value: '0.5K',
      allowed: ['1K', '2K', '4K'],
    });
    expect((error as Error).message).toContain('input.resolution: "0.5K"');
    expect(await f.producer.queue('edits').count()).toBe(0);
  });

  it('makes one job and one run for the same idempotency key', async () => {
    const f = await start();
    const request = { ...proEdit(), idempotencyKey: 'order-42' };
    const first = await f.producer.enqueueEdit('edits', request);
    const second = await f.producer.enqueueEdit('edits', request);
    expect(second.id).toBe(first.id);
    await f.producer.waitForResult('edits', first.id, { timeoutMs: 10_000 });
    const third = await f.producer.enqueueEdit('edits', request);
    expect(third).toMatchObject({ id: first.id, deduplicated: true });
    await expect(f.producer.enqueueEdit('edits', { ...proEdit('other'), idempotencyKey: 'order-42' })).rejects.toThrow(
      RunflowQueueError,
    );
    expect(f.sim.stats().runsCreated).toBe(1);
    expect(await f.producer.queue('edits').getJobCounts('completed')).toEqual({ completed: 1 });
  });
});
