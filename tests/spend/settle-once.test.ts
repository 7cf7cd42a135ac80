import { BudgetStore, openQueue, queueKeys, recordsKeyOf, SpendLedger } from '@runflow-queue/store';
import { afterEach, describe, expect, it } from 'vitest';
import { type Fleet, proEdit, startFleet, waitFor } from '../support/fleet.ts';

// Settle once per run id, account-wide, whatever queue the job is in; a job never adopts a run whose
// metadata names another job; and a settle marker that cannot be read is never taken as "settled".

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

describe('settle once per run, account-wide', () => {
  it("a job in another queue carrying another job's run id fails RUN_NOT_THIS_JOB and settles nothing", async () => {
    fleet = await startFleet({ queues: ['alpha', 'beta'], lifecycle: { firstPollDelayMs: 200 } });
    const f = fleet;
    const own = await f.producer.enqueueEdit('alpha', proEdit());
    const result = await f.producer.waitForResult('alpha', own.id, { timeoutMs: 15_000 });
    // Written straight into Redis (an old script, a hand-made job): step submitted, alpha's run.
    const beta = openQueue(f.redis, f.prefix, 'beta');
    const now = Date.now();
    await beta.add(
      'edit',
      {
        ...proEdit(),
        step: 'submitted',
        runId: result.runId,
        clientRef: 'forged-ref',
        enqueuedAt: now,
        submittedAt: now,
        deadlineAt: now + 60_000,
      },
      { jobId: 'forged' },
    );
    await waitFor(async () => (await beta.getJob('forged'))?.failedReason, 15_000, 'forged job failed');
    const forged = await beta.getJob('forged');
    expect(forged?.failedReason).toMatch(/^RUN_NOT_THIS_JOB: run .* is not this job's \(queue "alpha" ≠ beta/);
    await beta.close();

    expect(f.sim.billing().totalMicroUsd).toBe(150_000);
    expect(await f.ledger.totalMicroUsd(['alpha', 'beta'])).toBe(150_000);
    expect(await f.ledger.record(result.runId)).toMatchObject({ queue: 'alpha', jobId: own.id });
  });

  it('a run id settled in one queue is not settled again from another', async () => {
    fleet = await startFleet({ queues: ['alpha', 'beta'], workers: false });
    const ledger = new SpendLedger(fleet.redis, { prefix: fleet.prefix });
    const settlement = {
      runId: '01a23b17-6e08-7037-8f50-27b310f626b3',
      jobId: 'job-1',
      model: 'google/nano-banana-pro/edit',
      day: '2026-12-03',
      outcome: 'completed' as const,
      images: 1,
      costMicroUsd: 150_000,
      completedBy: 'callback' as const,
    };
    const answers = await Promise.all([
      ledger.settle({ ...settlement, queue: 'alpha' }),
      ledger.settle({ ...settlement, queue: 'beta' }),
      ledger.settle({ ...settlement, queue: 'alpha' }),
    ]);
    expect(answers.filter(Boolean)).toHaveLength(1);
    expect(await ledger.totalMicroUsd(['alpha', 'beta'])).toBe(150_000);
    const again = await ledger.settleOnce({ ...settlement, queue: 'beta', jobId: 'job-2' });
    expect(again.settledNow).toBe(false);
    expect(again.record.jobId).toBe('job-1');
  });

  it("settles a job's budget once: again after a stop between the two scripts, never for another job's run", async () => {
    fleet = await startFleet({ queues: ['alpha', 'beta'], workers: false });
    const ledger = new SpendLedger(fleet.redis, { prefix: fleet.prefix });
    const budgets = new BudgetStore(fleet.redis, { prefix: fleet.prefix });
    const policy = { dailyUsd: 100, policy: 'fail' as const };
    const at = Date.now();
    const base = {
      runId: '01a23b17-6e08-7037-8f50-27b310f626c1',
      model: 'google/nano-banana-pro/edit',
      day: new Date(at).toISOString().slice(0, 10),
      outcome: 'completed' as const,
      images: 1,
      costMicroUsd: 150_000,
      completedBy: 'poll' as const,
    };
    // alpha's job-1: the run is settled, then the process stops before its budget script ran.
    const mine = await budgets.reserve('alpha', 'job-1', 150_000, policy, at);
    if (!mine.reserved) throw new Error('not reserved');
    await ledger.settle({ ...base, queue: 'alpha', jobId: 'job-1' });
    expect((await budgets.usage('alpha', at)).day).toEqual({ reservedMicroUsd: 150_000, spentMicroUsd: 0 });
    // The job runs its finalize again: the run is settled already, its reservation becomes spend once.
    const budget = { jobId: 'job-1', reservation: mine.reservation, at };
    await ledger.settle({ ...base, queue: 'alpha', jobId: 'job-1', budget });
    await ledger.settle({ ...base, queue: 'alpha', jobId: 'job-1', budget });
    expect((await budgets.usage('alpha', at)).day).toEqual({ reservedMicroUsd: 0, spentMicroUsd: 150_000 });

    // beta's job-2 carries the same run id: its reservation is released, nothing counts as its spend.
    const theirs = await budgets.reserve('beta', 'job-2', 150_000, policy, at);
    if (!theirs.reserved) throw new Error('not reserved');
    const answer = await ledger.settleOnce({
      ...base,
      queue: 'beta',
      jobId: 'job-2',
      budget: { jobId: 'job-2', reservation: theirs.reservation, at },
    });
    expect(answer).toMatchObject({ settledNow: false, record: { queue: 'alpha', jobId: 'job-1' } });
    expect((await budgets.usage('beta', at)).day).toEqual({ reservedMicroUsd: 0, spentMicroUsd: 0 });
    expect(await ledger.totalMicroUsd(['alpha', 'beta'])).toBe(150_000);

    // Confirmed at 120,000 µUSD: the ledger and alpha's budget windows follow Runflow's cost.
    await ledger.confirm(base.runId, 120_000);
    expect(await ledger.totalMicroUsd(['alpha', 'beta'])).toBe(120_000);
    expect((await budgets.usage('alpha', at)).day).toEqual({ reservedMicroUsd: 0, spentMicroUsd: 120_000 });
    expect((await budgets.usage('alpha', at)).month.spentMicroUsd).toBe(120_000);
  });

  it('a run the previous deploy settled (its per-queue marker) is not settled again across the upgrade', async () => {
    fleet = await startFleet({ workers: false });
    const ledger = new SpendLedger(fleet.redis, { prefix: fleet.prefix });
    const runId = '01a23b17-6e08-7037-8f50-27b310f626c9';
    await fleet.redis.set(
      queueKeys(fleet.prefix, 'edits').legacySettled(runId),
      JSON.stringify({ costMicroUsd: 150_000, outcome: 'completed', source: 'provider' }),
      'EX',
      3600,
    );
    const answer = await ledger.settleOnce({
      queue: 'edits',
      runId,
      model: 'google/nano-banana-pro/edit',
      day: '2026-12-03',
      outcome: 'completed',
      images: 1,
      costMicroUsd: 150_000,
      completedBy: 'poll',
    });
    expect(answer).toMatchObject({ settledNow: false, record: { confirmedMicroUsd: 150_000 } });
    expect(await ledger.totalMicroUsd(['edits'])).toBe(0);
    expect(await ledger.record(runId)).toBeUndefined();
  });

  it('never trusts a settle marker it cannot read: the settle fails loudly instead of skipping', async () => {
    fleet = await startFleet({ workers: false });
    const ledger = new SpendLedger(fleet.redis, { prefix: fleet.prefix });
    const runId = '01a23b17-6e08-7037-8f50-27b310f626b4';
    await fleet.redis.hset(recordsKeyOf(fleet.prefix, runId), runId, 'garbage');
    await expect(
      ledger.settleOnce({
        queue: 'edits',
        runId,
        model: 'google/nano-banana-pro/edit',
        day: '2026-12-03',
        outcome: 'completed',
        images: 1,
        costMicroUsd: 150_000,
        completedBy: 'poll',
      }),
    ).rejects.toThrow(/spend record of run .* cannot be read/);
  });
});
