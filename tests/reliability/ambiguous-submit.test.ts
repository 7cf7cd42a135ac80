import { afterEach, describe, expect, it } from 'vitest';
import { type Fleet, type FleetOptions, proEdit, startFleet, waitFor } from '../support/fleet.ts';

// Invariant 2, pay once: a create that may have reached Runflow (the simulator creates the run, then
// resets the socket) is resolved, not guessed — adopted through its callback, or after the grace period
// through a lookup by clientRef, and only then resubmitted with the same Idempotency-Key — and every run
// that billed ends up in the ledger. `runSearch: false` is a Runflow that cannot look runs up by
// client_ref (undocumented there), which forces the resubmit paths.

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

async function start(options: FleetOptions): Promise<Fleet> {
  fleet = await startFleet(options);
  return fleet;
}

async function ledgerTotals(f: Fleet) {
  const rows = await f.ledger.rows(['edits']);
  return {
    spend: rows.reduce((n, row) => n + row.spendMicroUsd, 0),
    wasteRuns: rows.reduce((n, row) => n + row.wasteRuns, 0),
    wasteMicroUsd: rows.reduce((n, row) => n + row.wasteMicroUsd, 0),
  };
}

/** Lets the first create through to the simulator, resets its answer, then stops resetting. */
async function resetFirstCreate(f: Fleet): Promise<string> {
  const run = await waitFor(async () => f.sim.runs()[0], 5_000, 'first run created');
  f.sim.setFaults({ resetAfterCreate: 0 });
  expect(run.unanswered).toBe(1);
  return run.id;
}

describe('ambiguous submits (reset after the run was created)', () => {
  it('callback lost: the run is found by a lookup after the grace period and adopted — one run, even ignoring the key', async () => {
    const f = await start({
      sim: { idempotency: 'ignore', faults: { resetAfterCreate: 1, callbackDrop: 1 } },
      lifecycle: { ambiguousGraceMs: 500, firstPollDelayMs: 200 },
    });
    const handle = await f.producer.enqueueEdit('edits', proEdit());
    const first = await resetFirstCreate(f);
    const result = await f.producer.waitForResult('edits', handle.id, { timeoutMs: 15_000 });

    expect(result.runId).toBe(first);
    expect(result.completedBy).toBe('poll');
    expect(f.sim.stats().runsCreated).toBe(1);
    expect(f.sim.stats().searchRequests).toBe(1);
    expect(f.sim.getRun(first)?.foundBySearch).toBe(1);
    const job = await f.producer.queue('edits').getJob(handle.id);
    expect(job?.data.resubmits).toBeUndefined();
    expect(await ledgerTotals(f)).toEqual({ spend: 150_000, wasteRuns: 0, wasteMicroUsd: 0 });
  });

  it('a lookup that fails (5xx) is asked again, never guessed: no resubmit until it answers', async () => {
    const f = await start({
      sim: { idempotency: 'ignore', faults: { resetAfterCreate: 1, callbackDrop: 1, getServerError: 1 } },
      lifecycle: { ambiguousGraceMs: 300, firstPollDelayMs: 200 },
    });
    const handle = await f.producer.enqueueEdit('edits', proEdit());
    const first = await resetFirstCreate(f);
    const queue = f.producer.queue('edits');
    await waitFor(async () => ((await queue.getJob(handle.id))?.data.transientErrors ?? 0) >= 3, 10_000, '3 lookups');
    expect(f.sim.stats().runsCreated).toBe(1);
    f.sim.setFaults({ getServerError: 0 });
    const result = await f.producer.waitForResult('edits', handle.id, { timeoutMs: 15_000 });
    expect(result.runId).toBe(first);
    expect(f.sim.stats().runsCreated).toBe(1);
    expect(await ledgerTotals(f)).toEqual({ spend: 150_000, wasteRuns: 0, wasteMicroUsd: 0 });
  });

  it('with Idempotency-Key honoured and no lookup: a lost callback still costs one run — the resubmit replays it', async () => {
    const f = await start({
      sim: { idempotency: 'honour', runSearch: false, faults: { resetAfterCreate: 1, callbackDrop: 1 } },
      lifecycle: { ambiguousGraceMs: 500, firstPollDelayMs: 200 },
    });
    const handle = await f.producer.enqueueEdit('edits', proEdit());
    const first = await resetFirstCreate(f);
    const result = await f.producer.waitForResult('edits', handle.id, { timeoutMs: 15_000 });

    expect(result.runId).toBe(first);
    expect(result.completedBy).toBe('poll');
    expect(f.sim.stats().runsCreated).toBe(1);
    expect(f.sim.getRun(first)?.replays).toBe(1);
    const job = await f.producer.queue('edits').getJob(handle.id);
    expect(job?.data.resubmits).toBe(1);
    expect(await ledgerTotals(f)).toEqual({ spend: 150_000, wasteRuns: 0, wasteMicroUsd: 0 });
    expect(f.sim.billing().totalMicroUsd).toBe(150_000);
  });

  it('with Idempotency-Key ignored: the run is adopted through its callback (matched by clientRef) within the grace period', async () => {
    const f = await start({
      sim: { idempotency: 'ignore', faults: { resetAfterCreate: 1 } },
      lifecycle: { ambiguousGraceMs: 5_000 },
    });
    const started = Date.now();
    const handle = await f.producer.enqueueEdit('edits', proEdit());
    const first = await resetFirstCreate(f);
    const result = await f.producer.waitForResult('edits', handle.id, { timeoutMs: 15_000 });

    expect(result.runId).toBe(first);
    expect(result.completedBy).toBe('callback');
    // Ingest promoted the parked job when the callback came: nobody waited out the grace period.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(f.sim.stats().runsCreated).toBe(1);
    const job = await f.producer.queue('edits').getJob(handle.id);
    expect(job?.data.resubmits).toBeUndefined();
    expect(job?.data.ambiguousSince).toBeTypeOf('number');
    expect(await ledgerTotals(f)).toEqual({ spend: 150_000, wasteRuns: 0, wasteMicroUsd: 0 });
  });

  it('with Idempotency-Key ignored, no lookup and the callback late: the resubmitted run is kept, the first is waste', async () => {
    const f = await start({
      sim: {
        idempotency: 'ignore',
        runSearch: false,
        faults: { resetAfterCreate: 1, callbackDelay: 1, callbackDelayMs: 2_500 },
      },
      lifecycle: { ambiguousGraceMs: 500, firstPollDelayMs: 200 },
    });
    const handle = await f.producer.enqueueEdit('edits', proEdit());
    const first = await resetFirstCreate(f);
    const result = await f.producer.waitForResult('edits', handle.id, { timeoutMs: 15_000 });
    expect(result.runId).not.toBe(first);
    expect(result.completedBy).toBe('poll');
    expect(f.sim.stats().runsCreated).toBe(2);

    // The first run's callback lands on a job that kept another run: ingest settles it as waste.
    await f.sim.whenCallbacksSettled();
    expect(f.sim.billing().totalMicroUsd).toBe(300_000);
    expect(await ledgerTotals(f)).toEqual({ spend: 300_000, wasteRuns: 1, wasteMicroUsd: 150_000 });
    expect(await f.ledger.record(first)).toMatchObject({
      queue: 'edits',
      jobId: handle.id,
      outcome: 'waste',
      path: 'waste',
      estimatedMicroUsd: 150_000,
    });
  });

  it('with Idempotency-Key ignored, no lookup and the first callback landing mid-resubmit: the job settles it as waste', async () => {
    const f = await start({
      sim: { idempotency: 'ignore', runSearch: false, faults: { resetAfterCreate: 1 } },
      lifecycle: { ambiguousGraceMs: 300, firstPollDelayMs: 60_000 },
    });
    f.sim.holdCallbacks(true);
    const handle = await f.producer.enqueueEdit('edits', proEdit());
    const first = await resetFirstCreate(f);
    // The resubmit meets 429s: the job goes back to `queued` with no run recorded, and parks.
    f.sim.setFaults({ createRateLimited: 1 });
    const queue = f.producer.queue('edits');
    await waitFor(
      async () => {
        const job = await queue.getJob(handle.id);
        return job?.data.resubmits === 1 && (job.data.rateLimited ?? 0) >= 1 && job.data.step === 'queued';
      },
      5_000,
      'resubmit rate-limited',
    );
    // Now the first run's callback arrives: ingest cannot tell yet whether the job will adopt it.
    await waitFor(async () => f.sim.getRun(first)?.status_code === 'succeeded', 5_000, 'first run done');
    await f.sim.releaseCallbacks(first);
    expect(await f.inbox.has('edits', first)).toBe(true);
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(0);
    // The resubmit goes through: a second run, which the job keeps.
    f.sim.setFaults({ createRateLimited: 0 });
    f.sim.holdCallbacks(false);
    const result = await f.producer.waitForResult('edits', handle.id, { timeoutMs: 15_000 });

    expect(result.runId).not.toBe(first);
    expect(f.sim.stats().runsCreated).toBe(2);
    await f.sim.whenCallbacksSettled();
    expect(f.sim.billing().totalMicroUsd).toBe(300_000);
    expect(await ledgerTotals(f)).toEqual({ spend: 300_000, wasteRuns: 1, wasteMicroUsd: 150_000 });
  });
});
