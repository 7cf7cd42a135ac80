import { afterEach, describe, expect, it } from 'vitest';
import { type Fleet, proEdit, startFleet, waitFor } from './support/fleet.ts';
import { spawnWorker } from './support/worker-process.ts';

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

describe('worker processes', () => {
  it('stops cleanly on SIGTERM while jobs are active: nothing stalls, nothing is lost or paid twice', async () => {
    fleet = await startFleet({ workers: false, sim: { latencyMs: { min: 1_000, max: 2_000 } } });
    const f = fleet;
    const handles = await f.producer.enqueueEdits(
      'edits',
      Array.from({ length: 120 }, (_, i) => proEdit(`job ${i}`)),
    );
    const first = spawnWorker(f, { WORKER_CONCURRENCY: '8', SHUTDOWN_GRACE_MS: '10000' });
    const queue = f.producer.queue('edits');
    await waitFor(async () => (await queue.getActiveCount()) > 0, 15_000, 'active jobs');
    const signalled = Date.now();
    const { code } = await first.stop();
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10_000);
    expect(first.output()).toContain('worker stopped');
    // Nothing was left active for the stalled-job checker to rescue.
    expect(await queue.getActiveCount()).toBe(0);

    const second = spawnWorker(f, { WORKER_CONCURRENCY: '8', FIRST_POLL_DELAY_MS: '5000' });
    try {
      await waitFor(async () => (await queue.getCompletedCount()) === handles.length, 40_000, 'all completed');
    } finally {
      await second.stop();
    }
    expect(await queue.getFailedCount()).toBe(0);
    expect(f.sim.stats().runsCreated).toBe(handles.length);
    expect(f.sim.billing().totalMicroUsd).toBe(await f.ledger.totalMicroUsd(['edits']));
  });

  it('holds 500 runs in flight with one worker at concurrency 4, never more than 4 active', async () => {
    fleet = await startFleet({ concurrency: 4, sim: { latencyMs: { min: 5_000, max: 5_000 } } });
    const f = fleet;
    const queue = f.producer.queue('edits');
    const handles = await f.producer.enqueueEdits(
      'edits',
      Array.from({ length: 500 }, (_, i) => proEdit(`job ${i}`)),
    );
    let maxActive = 0;
    let maxInFlight = 0;
    let done = false;
    const sampler = (async () => {
      while (!done) {
        maxActive = Math.max(maxActive, await queue.getActiveCount());
        maxInFlight = Math.max(maxInFlight, f.sim.stats().inFlight);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    await waitFor(async () => (await queue.getCompletedCount()) === handles.length, 50_000, '500 completed');
    done = true;
    await sampler;
    expect(maxActive).toBeLessThanOrEqual(4);
    expect(maxInFlight).toBeGreaterThanOrEqual(400);
    expect(await queue.getFailedCount()).toBe(0);
    expect(f.sim.stats().runsCreated).toBe(500);
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(500 * 150_000);
    expect(f.sim.billing().totalMicroUsd).toBe(500 * 150_000);
  });
});
