import { spendKeys } from '@runflow-queue/store';
import { afterEach, describe, expect, it } from 'vitest';
import { type Fleet, nb2Edit, proEdit, startFleet, waitFor } from '../support/fleet.ts';

// The ledger heals after lost writes: Redis (appendfsync everysec) can lose its last second on a
// crash — a settle, or a whole job. The reconciler finds the runs Runflow billed that the ledger lacks
// in Runflow's run list and books them with Runflow's cost.

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

async function startHealing(): Promise<Fleet> {
  fleet = await startFleet({
    lifecycle: { firstPollDelayMs: 200 },
    sim: { pricing: { surcharges: 'none' } },
    // Ticks are driven by the test (the interval is long), with no heal lag.
    reconciler: { intervalMs: 3_600_000, share: 0.05, healLagMs: 0, healLookbackMs: 3_600_000, balanceEveryMs: 0 },
  });
  return fleet;
}

describe('the ledger heals after lost writes', () => {
  it('books a billed run whose settle was lost, and one whose whole job was lost, with Runflow’s cost', async () => {
    const f = await startHealing();
    const handles = await f.producer.enqueueEdits('edits', [
      proEdit('a'),
      nb2Edit({ thinking_level: 'high', num_images: 2 }),
      proEdit('c'),
    ]);
    const results = await Promise.all(
      handles.map((h) => f.producer.waitForResult('edits', h.id, { timeoutMs: 15_000 })),
    );
    const reconciler = f.workers?.reconciler;
    if (!reconciler) throw new Error('no reconciler');
    await reconciler.tick();
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(f.sim.billing().totalMicroUsd);

    // The last second lost: the ledger, every record and — written after them, so lost with them (the
    // AOF loses a suffix) — the reconciler's cursor; and one whole job. The model ids learnt at the
    // first create came before all of it and stay.
    const keys = spendKeys(f.prefix);
    const lost = (await f.redis.keys(`${f.prefix}:{spend}:*`)).filter((key) => key !== keys.modelIds);
    expect(lost).toContain(keys.healCursor);
    await f.redis.del(...lost);
    await (await f.producer.queue('edits').getJob(handles[2].id))?.remove();
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(0);

    const tick = await reconciler.tick();
    expect(tick.heal?.healed).toBe(3);
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(f.sim.billing().totalMicroUsd);
    expect(await f.ledger.record(results[0].runId)).toMatchObject({
      path: 'healed',
      outcome: 'completed',
      state: 'confirmed',
    });
    // Its job gone, the run is named by its metadata (queue, job id) and its model uuid (learnt).
    expect(await f.ledger.record(results[2].runId)).toMatchObject({
      path: 'orphan',
      outcome: 'waste',
      model: 'google/nano-banana-pro/edit',
      jobId: handles[2].id,
    });
    // Once healed, it stays healed: another pass books nothing twice.
    await reconciler.tick();
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(f.sim.billing().totalMicroUsd);
  });

  it('leaves a run to its job while the job is still going', async () => {
    const f = await startHealing();
    f.sim.holdCallbacks(true);
    const handle = await f.producer.enqueueEdit('edits', { ...proEdit() });
    await waitFor(
      async () => f.sim.runs().every((run) => run.status_code === 'succeeded') && f.sim.runs().length === 1,
      10_000,
      'run done',
    );
    // The job is parked (the callback is held and its first poll is a moment away) — or already done.
    const tick = await f.workers?.reconciler?.tick();
    const job = await f.producer.queue('edits').getJob(handle.id);
    if (job?.finishedOn === undefined) expect(tick?.heal?.healed).toBe(0);
    f.sim.holdCallbacks(false);
    await f.sim.releaseCallbacks();
    await f.producer.waitForResult('edits', handle.id, { timeoutMs: 15_000 });
    await f.workers?.reconciler?.tick();
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(150_000);
    expect(await f.ledger.record(f.sim.runs()[0].id)).toMatchObject({ jobId: handle.id });
  });
});
