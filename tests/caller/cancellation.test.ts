import { EditFailedError } from '@runflow-queue/producer';
import { failureCode } from '@runflow-queue/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { type Fleet, type FleetOptions, proEdit, releaseHeldCallbacks, startFleet, waitFor } from '../support/fleet.ts';

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

async function start(options: FleetOptions = {}): Promise<Fleet> {
  fleet = await startFleet(options);
  return fleet;
}

async function parked(f: Fleet, id: string) {
  const queue = f.producer.queue('edits');
  return waitFor(
    async () => {
      const job = await queue.getJob(id);
      return job?.data.step === 'submitted' && (await job.getState()) === 'delayed' ? job : undefined;
    },
    5_000,
    'job parked',
  );
}

describe('cancellation', () => {
  it('removes a job that was not yet submitted: no run, nothing spent', async () => {
    const f = await start();
    const handle = await f.producer.enqueueEdit('edits', proEdit(), { delayMs: 2_000 });
    const waiting = handle.result({ timeoutMs: 10_000 }).catch((e: unknown) => e);
    const result = await handle.cancel();
    expect(result).toMatchObject({ id: handle.id, outcome: 'removed', step: 'queued' });
    expect(await f.producer.getEdit('edits', handle.id)).toBeUndefined();
    expect(await waiting).toMatchObject({ code: 'JOB_NOT_FOUND' });
    // Past the delay the job would have run: nothing was submitted, nothing billed.
    await new Promise((resolve) => setTimeout(resolve, 2_300));
    expect(f.sim.stats().createRequests).toBe(0);
    expect(f.sim.billing().totalMicroUsd).toBe(0);
    expect(await f.producer.cancelEdit('edits', handle.id)).toMatchObject({ outcome: 'not_found' });
  });

  it('abandons a submitted job: the run is still settled, the job fails JOB_ABANDONED', async () => {
    const f = await start();
    f.sim.holdCallbacks(true);
    const handle = await f.producer.enqueueEdit('edits', { ...proEdit(), tags: { costCenter: 'growth' } });
    const job = await parked(f, handle.id);
    const result = await f.producer.cancelEdit('edits', handle.id);
    expect(result).toMatchObject({ outcome: 'abandoned', step: 'submitted', runId: job.data.runId });
    expect(result.message).toContain('no public cancel');
    expect((await handle.status()).abandoned).toBe(true);
    // Cancelling twice answers the same and changes nothing.
    expect(await handle.cancel()).toMatchObject({ outcome: 'abandoned' });

    await releaseHeldCallbacks(f);
    const error = await handle.result({ timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EditFailedError);
    expect((error as EditFailedError).code).toBe('JOB_ABANDONED');
    const status = await handle.status();
    expect(status).toMatchObject({ state: 'failed', abandoned: true, runId: job.data.runId });
    expect(status.failure?.reason).toContain('150000');

    expect(f.sim.stats().runsCreated).toBe(1);
    expect(f.sim.billing().totalMicroUsd).toBe(150_000);
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(150_000);
    expect((await f.ledger.rows(['edits'])).find((r) => r.costCenter === 'growth')?.spendMicroUsd).toBe(150_000);
    expect(await handle.cancel()).toMatchObject({ outcome: 'already_finished', state: 'failed' });
  });

  it('waits while a worker holds the job, answers busy when it holds on, then abandons', async () => {
    let release: (() => void) | undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const f = await start({
      hooks: {
        // Hold the worker between submit and park: the job is active and locked.
        beforePark: async (_job, data) => {
          if (data.step === 'submitted') await gate;
        },
      },
    });
    // Callbacks held: once the worker lets go, the job stays parked (no result to wake it) until the
    // cancel has judged it. A callback landing first would let the job finish before it is looked at.
    f.sim.holdCallbacks(true);
    const handle = await f.producer.enqueueEdit('edits', proEdit());
    await waitFor(async () => f.sim.stats().runsCreated === 1, 5_000, 'run created');
    expect(await f.producer.cancelEdit('edits', handle.id, { waitActiveMs: 300 })).toMatchObject({ outcome: 'busy' });
    // The busy answer changed nothing: the job was not marked.
    expect((await handle.status()).abandoned).toBe(false);
    const cancelling = f.producer.cancelEdit('edits', handle.id, { waitActiveMs: 5_000 });
    setTimeout(() => release?.(), 200);
    expect(await cancelling).toMatchObject({ outcome: 'abandoned', step: 'submitted' });
    await releaseHeldCallbacks(f);
    const error = await handle.result({ timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect((error as EditFailedError).code).toBe('JOB_ABANDONED');
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(f.sim.billing().totalMicroUsd);
  });

  it('leaves a finished job alone', async () => {
    const f = await start();
    const handle = await f.producer.enqueueEdit('edits', proEdit());
    await handle.result({ timeoutMs: 10_000 });
    expect(await handle.cancel()).toMatchObject({ outcome: 'already_finished', state: 'completed' });
    const job = await f.producer.queue('edits').getJob(handle.id);
    expect(failureCode(job?.failedReason)).toBeUndefined();
    expect((await handle.status()).state).toBe('completed');
  });
});
