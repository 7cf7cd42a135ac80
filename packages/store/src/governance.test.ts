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
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
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

  it('halves the rate once per 429 episode, stops until Retry-After, and recovers under the ceiling', async () => {
    const clock = fakeClock();
    const governor = new RateGovernor(redis, {
      prefix: uniquePrefix(),
      apiKey: 'k',
      requestsPerSecond: 20,
      burst: 1,
      recoveryPerSecond: 0.1,
      now: clock.now,
    });
    expect(await governor.penalize(undefined)).toBe(0.5); // ceiling: 0.9 of the rate that drew it
    clock.advance(1_000);
    expect(await governor.penalize(undefined)).toBe(0.6); // same episode: not halved again (0.5 + 0.1 recovered)
    clock.advance(3_000);
    expect(await governor.penalize(2_000)).toBeCloseTo(0.45, 5); // a new episode: 0.5 + 0.4 recovered (≤ ceiling 0.9), halved
    const blocked = await governor.acquire('q');
    expect(blocked).toEqual({ granted: false, waitMs: 2_000 });
    expect(await governor.acquire('q', 1, 500)).toEqual({ granted: false, waitMs: 2_000 });
    clock.advance(2_000);
    const granted = await hammer(governor, clock, [['q', 1]], 1_000);
    expect(granted.q).toBeLessThanOrEqual(Math.ceil(20 * 0.75) + 1); // factor ~0.65-0.75 during that second
    clock.advance(10_000);
    const settled = await governor.state();
    expect(settled.ceiling).toBeCloseTo(0.81, 2); // 0.9 × 0.9, the factor that drew the second episode
    expect(settled.factor).toBeCloseTo(settled.ceiling, 5); // recovery stopped at the ceiling
    clock.advance(30 * 60_000); // the ceiling relaxes 2 % of the rate per minute
    expect((await governor.state()).factor).toBe(1);
  });

  it('converges under an account limit below its configured rate, so 429s stop', async () => {
    const clock = fakeClock();
    const governor = new RateGovernor(redis, {
      prefix: uniquePrefix(),
      apiKey: 'k',
      requestsPerSecond: 20,
      burst: 1,
      now: clock.now,
    });
    // The account really allows 15/s: a token bucket of 15 answers 429 beyond it.
    let tokens = 15;
    let last = clock.now();
    const penalties: number[] = [];
    for (let second = 0; second < 60; second += 1) {
      for (let step = 0; step < 200; step += 1) {
        tokens = Math.min(15, tokens + ((clock.now() - last) / 1000) * 15);
        last = clock.now();
        if ((await governor.acquire('q')).granted) {
          if (tokens >= 1) tokens -= 1;
          else {
            await governor.penalize(undefined);
            penalties.push(second);
          }
        }
        clock.advance(5);
      }
    }
    expect(penalties.length).toBeGreaterThan(0);
    expect(penalties.filter((second) => second >= 30)).toEqual([]);
  });

  it('reserves a slot within the caller’s patience and paces requests exactly', async () => {
    const clock = fakeClock();
    const governor = new RateGovernor(redis, {
      prefix: uniquePrefix(),
      apiKey: 'k',
      requestsPerSecond: 10,
      burst: 1,
      now: clock.now,
    });
    const decisions = [];
    for (let i = 0; i < 12; i += 1) decisions.push(await governor.acquire('q', 1, 1_000));
    // Slots 100 ms apart: the first now, then +100 ms … +1,000 ms; the twelfth is beyond patience.
    expect(decisions.slice(0, 11).map((d) => (d.granted ? d.delayMs : -1))).toEqual([
      0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1_000,
    ]);
    expect(decisions[11]).toEqual({ granted: false, waitMs: 100 });
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
