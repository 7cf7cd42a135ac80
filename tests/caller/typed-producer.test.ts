import { type CallerEditRequest, EditFailedError } from '@runflow-queue/producer';
import { EditValidationError, RunflowQueueError } from '@runflow-queue/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { type Fleet, type FleetOptions, nb2Edit, proEdit, startFleet, waitFor } from '../support/fleet.ts';

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

async function start(options: FleetOptions = {}): Promise<Fleet> {
  fleet = await startFleet(options);
  return fleet;
}

describe('the typed producer', () => {
  it('rejects a field of the other model at compile time and at run time', async () => {
    const f = await start({ workers: false });
    const wrong: CallerEditRequest = {
      model: 'google/nano-banana-pro/edit',
      // @ts-expect-error — thinking_level exists only on nano-banana-2
      input: { prompt: 'x', image_urls: ['https://example.com/a.png'], thinking_level: 'high' },
    };
    const right: CallerEditRequest = {
      model: 'google/nano-banana-2/edit',
      input: { prompt: 'x', image_urls: ['https://example.com/a.png'], thinking_level: 'high', resolution: '0.5K' },
    };
    // @ts-expect-error — 0.5K is a nano-banana-2 resolution, not nano-banana-pro's
    const badResolution: CallerEditRequest = { ...proEdit(), input: { ...proEdit().input, resolution: '0.5K' } };
    const error = await f.producer.enqueueEdit('edits', wrong).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EditValidationError);
    expect((error as EditValidationError).issues.map((i) => i.path)).toEqual(['input.thinking_level']);
    await expect(f.producer.enqueueEdit('edits', badResolution)).rejects.toThrow(/input\.resolution: "0\.5K"/);
    expect(f.producer.validate(right)).toEqual([]);
    expect(await f.producer.queue('edits').count()).toBe(0);
  });

  it('returns a handle whose status() and result() follow the job', async () => {
    const f = await start();
    f.sim.holdCallbacks(true);
    const handle = await f.producer.enqueueEdit('edits', nb2Edit({ num_images: 2 }));
    expect({ ...handle }).toEqual({ id: handle.id, queue: 'edits', deduplicated: false });
    const parked = await waitFor(
      async () => {
        const status = await handle.status();
        return status.state === 'delayed' && status.step === 'submitted' ? status : undefined;
      },
      5_000,
      'job parked',
    );
    expect(parked.runId).toMatch(/.+/);
    expect(parked.result).toBeUndefined();
    f.sim.holdCallbacks(false);
    await f.sim.releaseCallbacks();
    const result = await handle.result({ timeoutMs: 10_000 });
    expect(result.outputs).toHaveLength(2);
    expect(result.costMicroUsd).toBe(160_000);
    expect(result.outputsExpireAt).toBeGreaterThan(Date.now() + 2 * 24 * 3600_000);
    const done = await handle.status();
    expect(done).toMatchObject({ state: 'completed', runId: parked.runId, abandoned: false });
    expect(done.result).toEqual(result);
    // A handle for an id from elsewhere (another process) works the same.
    expect((await f.producer.handle('edits', handle.id).status()).state).toBe('completed');
  });

  it('reports a failed job through result() with its code', async () => {
    const f = await start({ apiKey: 'revoked-key' });
    const handle = await f.producer.enqueueEdit('edits', proEdit());
    const error = await handle.result({ timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EditFailedError);
    expect((error as EditFailedError).code).toBe('UNAUTHORIZED');
    expect((await handle.status()).failure?.code).toBe('UNAUTHORIZED');
  });

  it('runs higher priorities first on a single worker at concurrency 1', async () => {
    const f = await start({ concurrency: 1 });
    const queue = f.producer.queue('edits');
    await queue.pause();
    const priorities = [10, 5, 1, 10, 1, 5];
    const handles = [];
    for (const [index, priority] of priorities.entries()) {
      handles.push(await f.producer.enqueueEdit('edits', proEdit(`job ${index}`), { priority }));
    }
    expect((await handles[0].status()).priority).toBe(10);
    await queue.resume();
    const results = await Promise.all(handles.map((h) => h.result({ timeoutMs: 15_000 })));
    const order = results
      .map((result, index) => ({ index, submittedAt: result.timings.submittedAt }))
      .sort((a, b) => a.submittedAt - b.submittedAt)
      .map(({ index }) => priorities[index]);
    expect(order).toEqual([1, 1, 5, 5, 10, 10]);
    // Equal priorities keep their enqueue order.
    const ones = [2, 4].map((i) => results[i].timings.submittedAt);
    expect(ones[0]).toBeLessThan(ones[1]);
  });

  it('holds a delayed job back until its delay has passed', async () => {
    const f = await start();
    const handle = await f.producer.enqueueEdit('edits', proEdit(), { delayMs: 1_500 });
    expect(await handle.status()).toMatchObject({ state: 'delayed', step: 'queued' });
    const result = await handle.result({ timeoutMs: 10_000 });
    expect(result.timings.submittedAt - result.timings.enqueuedAt).toBeGreaterThanOrEqual(1_500);
  });

  it('rejects bad priority and delay with field issues, enqueuing nothing', async () => {
    const f = await start({ workers: false });
    const error = await f.producer
      .enqueueEdit('edits', proEdit(), { priority: 0, delayMs: -5 })
      .catch((e: unknown) => e as EditValidationError);
    expect((error as EditValidationError).issues.map((i) => [i.path, i.value])).toEqual([
      ['priority', 0],
      ['delayMs', -5],
    ]);
    expect(await f.producer.queue('edits').count()).toBe(0);
  });

  it('carries costCenter into the ledger and labels with the job', async () => {
    const f = await start();
    const tags = { costCenter: 'catalog-team', labels: { campaign: 'spring', sku: 'A-42' } };
    const tagged = await f.producer.enqueueEdit('edits', { ...proEdit(), tags });
    const untagged = await f.producer.enqueueEdit('edits', nb2Edit());
    await tagged.result({ timeoutMs: 10_000 });
    await untagged.result({ timeoutMs: 10_000 });
    const rows = await f.ledger.rows(['edits']);
    expect(rows.find((r) => r.costCenter === 'catalog-team')).toMatchObject({
      model: 'google/nano-banana-pro/edit',
      completed: 1,
      spendMicroUsd: 150_000,
    });
    expect(rows.find((r) => r.costCenter === '-')).toMatchObject({ spendMicroUsd: 80_000 });
    expect((await tagged.status()).tags).toEqual(tags);
  });

  it('says JOB_NOT_FOUND for a job that does not exist', async () => {
    const f = await start({ workers: false });
    await expect(f.producer.handle('edits', 'nope').status()).rejects.toThrow(RunflowQueueError);
    await expect(f.producer.handle('edits', 'nope').result()).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
  });
});
