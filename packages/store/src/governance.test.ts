import { uniquePrefix } from '@runflow-queue/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BudgetStore, InflightCaps, RateGovernor, SpendLedger } from './index.ts';

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(() => redis.quit());

/** A clock the test moves by hand, so rate arithmetic is exact. */
function fakeClock(start = 1_800_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

/** Asks as fast as possible for `durationMs` of fake time in steps of `stepMs`; counts grants per queue. */
async function hammer(
  governor: RateGovernor,
  clock: ReturnType<typeof fakeClock>,
  queues: [string, number][],
  durationMs: number,
  stepMs = 5,
) {
  const granted: Record<string, number> = Object.fromEntries(queues.map(([q]) => [q, 0]));
  for (let t = 0; t < durationMs; t += stepMs) {
    for (const [queue, share] of queues) {
      // Several asks per step per queue: demand far above the rate.
      for (let i = 0; i < 3; i += 1) if ((await governor.acquire(queue, share)).granted) granted[queue] += 1;
    }
    clock.advance(stepMs);
  }
  return granted;
}

describe('rate governor', () => {
  it('grants the configured rate plus the burst, fleet-wide', async () => {
    const clock = fakeClock();
    const governor = new RateGovernor(redis, {
      prefix: uniquePrefix(),
      apiKey: 'k',
      requestsPerSecond: 20,
      burst: 5,
      now: clock.now,
    });
    const granted = await hammer(governor, clock, [['a', 1]], 3_000);
    expect(granted.a).toBeGreaterThanOrEqual(20 * 3);
    expect(granted.a).toBeLessThanOrEqual(20 * 3 + 5);
  });

  it('splits the rate by share between queues that are asking', async () => {
    const clock = fakeClock();
    const governor = new RateGovernor(redis, {
      prefix: uniquePrefix(),
      apiKey: 'k',
      requestsPerSecond: 40,
      burst: 4,
      now: clock.now,
    });
    const granted = await hammer(
      governor,
      clock,
      [
        ['backlog', 1],
        ['interactive', 3],
      ],
      5_000,
    );
    const total = granted.backlog + granted.interactive;
    expect(total).toBeLessThanOrEqual(40 * 5 + 4);
    expect(granted.interactive / total).toBeGreaterThan(0.7);
    expect(granted.interactive / total).toBeLessThan(0.8);
  });

  it('lets one queue use the whole rate when the others are quiet', async () => {
    const clock = fakeClock();
    const governor = new RateGovernor(redis, {
      prefix: uniquePrefix(),
      apiKey: 'k',
      requestsPerSecond: 30,
      burst: 1,
      now: clock.now,
    });
    await governor.acquire('other', 5);
    clock.advance(3_000); // 'other' is no longer active
    const granted = await hammer(governor, clock, [['alone', 1]], 2_000);
    expect(granted.alone).toBeGreaterThanOrEqual(58);
  });

  it('halves the rate on a 429 once per guard window, stops until Retry-After, and recovers', async () => {
    const clock = fakeClock();
    const governor = new RateGovernor(redis, {
      prefix: uniquePrefix(),
      apiKey: 'k',
      requestsPerSecond: 20,
      burst: 1,
      recoveryPerSecond: 0.1,
      now: clock.now,
    });
    expect(await governor.penalize(undefined)).toBe(0.5);
    expect(await governor.penalize(undefined)).toBe(0.5); // same guard window: counted once
    clock.advance(1_000);
    expect(await governor.penalize(2_000)).toBeCloseTo(0.3, 5); // 0.5 + 0.1 recovered, then halved
    const blocked = await governor.acquire('q');
    expect(blocked).toEqual({ granted: false, waitMs: 2_000 });
    clock.advance(2_000);
    const granted = await hammer(governor, clock, [['q', 1]], 1_000);
    expect(granted.q).toBeLessThanOrEqual(Math.ceil(20 * 0.6) + 1); // factor ~0.5-0.6 during that second
    clock.advance(10_000);
    expect((await governor.state()).factor).toBe(1);
  });
});

describe('budget', () => {
  it('reserves atomically: a $1.00 budget admits exactly six $0.15 jobs under a race', async () => {
    const budgets = new BudgetStore(redis, { prefix: uniquePrefix() });
    const budget = { dailyUsd: 1, policy: 'fail' as const };
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => budgets.reserve('q', `job-${i}`, 150_000, budget)),
    );
    expect(results.filter((r) => r.reserved)).toHaveLength(6);
    const refused = results.find((r) => !r.reserved);
    expect(refused).toMatchObject({ reserved: false, window: 'day' });
    // Idempotent: the same job asking again keeps its one reservation.
    const again = await budgets.reserve('q', 'job-0', 150_000, budget);
    expect(again.reserved).toBe(results[0].reserved);
    expect((await budgets.usage('q')).day.reservedMicroUsd).toBe(900_000);
  });

  it('turns a reservation into the actual spend when the run settles, and releases it otherwise', async () => {
    const prefix = uniquePrefix();
    const budgets = new BudgetStore(redis, { prefix });
    const ledger = new SpendLedger(redis, { prefix });
    const budget = { monthlyUsd: 10, policy: 'hold' as const };
    const a = await budgets.reserve('q', 'a', 300_000, budget);
    const b = await budgets.reserve('q', 'b', 300_000, budget);
    if (!a.reserved || !b.reserved) throw new Error('expected reservations');
    await ledger.settle({
      queue: 'q',
      runId: 'run-a',
      model: 'google/nano-banana-2/edit',
      day: a.reservation.day,
      outcome: 'completed',
      images: 2,
      costMicroUsd: 160_000,
      completedBy: 'callback',
      budget: { jobId: 'a', reservation: a.reservation, at: Date.now() },
    });
    expect(await budgets.release('q', 'b', b.reservation)).toBe(300_000);
    expect(await budgets.release('q', 'b', b.reservation)).toBe(0);
    expect((await budgets.usage('q')).month).toEqual({ reservedMicroUsd: 0, spentMicroUsd: 160_000 });
  });
});

describe('in-flight cap', () => {
  it('holds at most the cap per model, idempotently per job', async () => {
    const caps = new InflightCaps(redis, { prefix: uniquePrefix() });
    const model = 'google/nano-banana-pro/edit';
    const held = await Promise.all(Array.from({ length: 10 }, (_, i) => caps.acquire(model, `q/${i}`, 3)));
    expect(held.filter(Boolean)).toHaveLength(3);
    expect(await caps.acquire(model, 'q/0', 3)).toBe(true);
    await caps.release(model, 'q/0');
    expect(await caps.acquire(model, 'q/9', 3)).toBe(true);
    expect(await caps.count(model)).toBe(3);
  });
});
