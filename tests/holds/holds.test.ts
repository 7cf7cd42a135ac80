import { BudgetStore } from '@runflow-queue/store';
import { afterEach, describe, expect, it } from 'vitest';
import { type Fleet, startFleet, waitFor } from '../support/fleet.ts';
import { enqueueMany, expectProbesOnly, FAST_HOLDS, holdsOf, statesOf, waitAllEnded } from './holds-support.ts';

// Trouble that lasts: Runflow down (503, then connection refused), credit spent, an operator's pause.
// The fleet holds submits (and, while Runflow is down, polls), probes sparingly, resumes by itself;
// no job fails and nothing is paid twice.

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

async function ledgerMatchesBilling(f: Fleet): Promise<void> {
  expect(await f.ledger.totalMicroUsd(f.queues)).toBe(f.sim.billing().totalMicroUsd);
}

describe('holds', () => {
  it('a Runflow outage opens the breaker: submits and polls stop, one probe at a time, all jobs complete after it', async () => {
    const f = await startFleet({ holds: FAST_HOLDS, sim: { latencyMs: { min: 100, max: 200 } } });
    fleet = f;
    const holds = holdsOf(f);
    await waitAllEnded(f, 'edits', await enqueueMany(f.producer, 'edits', 3, 'before'), 20_000);

    await f.sim.setOutage('unavailable');
    const ids = await enqueueMany(f.producer, 'edits', 30, 'during');
    await waitFor(async () => (await holds.snapshot()).breaker.open, 10_000, 'breaker open');
    const openedAt = Date.now();
    const before = f.sim.requestTimes().length;
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await f.sim.setOutage('refused');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // Once open, Runflow sees only the probes: at most one per probeBaseMs (500 ms) — and the 503
    // phase is the only one in which it can see anything.
    const seen = f.sim.requestTimes().slice(before);
    expectProbesOnly(seen, openedAt);
    expect((await statesOf(f, 'edits', ids)).failed ?? 0).toBe(0);

    await f.sim.setOutage('off');
    expect(await waitAllEnded(f, 'edits', ids, 30_000)).toEqual([]);
    const breaker = (await holds.snapshot()).breaker;
    expect(breaker).toMatchObject({ open: false, opens: 1 });
    expect(breaker.lastOpenMs).toBeGreaterThan(3_500);
    await ledgerMatchesBilling(f);
    expect(f.sim.runs()).toHaveLength(33);
  });

  it('credit running out holds submits (in-flight runs finish), probes the balance, resumes on a top-up; nothing is failed, reservations are not leaked', async () => {
    const f = await startFleet({
      holds: FAST_HOLDS,
      sim: { latencyMs: { min: 1_200, max: 1_500 } },
      workloads: {
        rateLimit: { requestsPerSecond: 10_000, burst: 10_000 },
        queues: [{ name: 'edits', concurrency: 8, budget: { dailyUsd: 100, policy: 'hold' } }],
      },
    });
    fleet = f;
    const holds = holdsOf(f);
    const first = await enqueueMany(f.producer, 'edits', 2, 'in flight');
    await waitFor(async () => f.sim.runs().length === 2, 10_000, 'two runs created');
    f.sim.setBalance(0);
    const later = await enqueueMany(f.producer, 'edits', 6, 'after');
    await waitFor(async () => (await holds.snapshot()).credit.held, 10_000, 'credit hold');
    // The two runs created before the credit ran out still finish and settle while submits are held.
    expect(await waitAllEnded(f, 'edits', first, 15_000)).toEqual([]);
    await waitFor(async () => f.sim.stats().balanceRequests >= 2, 10_000, 'balance probed');
    expect(f.sim.runs()).toHaveLength(2);
    expect((await statesOf(f, 'edits', later)).failed ?? 0).toBe(0);
    // The hold, not each job, stops the submits: at most one 402 per job that was already on its way.
    expect(f.sim.stats().insufficientCredit).toBeLessThanOrEqual(later.length);

    f.sim.topUp(10_000_000);
    expect(await waitAllEnded(f, 'edits', later, 30_000)).toEqual([]);
    expect((await holds.snapshot()).credit).toMatchObject({ held: false, holds: 1 });
    expect(f.sim.runs()).toHaveLength(8);
    await ledgerMatchesBilling(f);
    // Every reservation was settled or released once: nothing reserved is left, spend = billing.
    const usage = await new BudgetStore(f.redis, { prefix: f.prefix }).usage('edits');
    expect(usage.day).toMatchObject({ reservedMicroUsd: 0, spentMicroUsd: f.sim.billing().totalMicroUsd });
  });

  it('an operator pause holds a queue’s submits within a second and survives until resumed; its in-flight run finishes', async () => {
    const f = await startFleet({
      holds: FAST_HOLDS,
      queues: ['edits', 'other'],
      sim: { latencyMs: { min: 800, max: 900 } },
    });
    fleet = f;
    const holds = holdsOf(f);
    const inflight = await enqueueMany(f.producer, 'edits', 1, 'in flight');
    await waitFor(async () => f.sim.runs().length === 1, 10_000, 'run created');
    await holds.pause('edits', 'checking prompts', 'test');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const held = await enqueueMany(f.producer, 'edits', 3, 'paused');
    const free = await enqueueMany(f.producer, 'other', 2, 'other queue');
    expect(await waitAllEnded(f, 'edits', inflight, 15_000)).toEqual([]);
    expect(await waitAllEnded(f, 'other', free, 15_000)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(f.sim.runs()).toHaveLength(3);
    expect((await statesOf(f, 'edits', held)).failed ?? 0).toBe(0);

    await holds.resume('edits');
    expect(await waitAllEnded(f, 'edits', held, 20_000)).toEqual([]);
    expect(f.sim.runs()).toHaveLength(6);
    await ledgerMatchesBilling(f);
  });
});
