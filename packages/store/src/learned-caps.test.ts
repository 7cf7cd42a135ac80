import { uniquePrefix } from '@runflow-queue/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InflightCaps, RateGovernor, readGovernorState } from './index.ts';

// Caps are not rate limits: a 429 that follows the runs in flight teaches a model's cap and leaves the
// fleet's rate alone; 429s that do not follow the rate undo the halving they caused.

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(() => redis.quit());

const PRO = 'google/nano-banana-pro/edit';
const NB2 = 'google/nano-banana-2/edit';
const T0 = 1_800_000_000_000;

/** Members q/0 … q/(n-1) take a slot each (no configured cap). */
async function fill(caps: InflightCaps, model: string, n: number, now: number): Promise<void> {
  for (let i = 0; i < n; i += 1) expect(await caps.acquire(model, `q/${i}`, undefined, now)).toBe(true);
}

describe('learned caps', () => {
  it('learns a cap from a 429 that follows the runs in flight, holds admissions under it, probes it and forgets it', async () => {
    const prefix = uniquePrefix();
    const caps = new InflightCaps(redis, { prefix, apiKey: 'k', probeMs: 5_000, learnedTtlMs: 60_000 });
    // Three creates accepted, with 0, 1 and 2 others in flight.
    for (let i = 0; i < 3; i += 1) {
      expect(await caps.acquire(PRO, `q/${i}`, undefined, T0)).toBe(true);
      await caps.created(PRO, `q/${i}`, T0);
    }
    expect(await caps.acquire(PRO, 'q/3', undefined, T0)).toBe(true);
    // The 4th create, with 3 in flight: refused. No create ever succeeded with 3 in flight: the cap is 3.
    expect(await caps.limited(PRO, 'q/3', T0 + 10)).toEqual({ kind: 'cap', others: 3, learnedCap: 3 });
    expect(await caps.count(PRO)).toBe(3); // the refused job gave its slot back
    expect(await caps.acquire(PRO, 'q/3', undefined, T0 + 20)).toBe(false);
    expect(await caps.acquire(NB2, 'q/9', undefined, T0 + 20)).toBe(true); // another model is not capped
    // A configured cap lower than the learned one still applies.
    await caps.release(PRO, 'q/2');
    expect(await caps.acquire(PRO, 'q/3', 2, T0 + 30)).toBe(false);

    // Binding for 5 s: one probe above it. It draws a 429 → back to 3, the next probe waits 10 s.
    await caps.acquire(PRO, 'q/2', undefined, T0 + 40);
    expect(await caps.acquire(PRO, 'q/3', undefined, T0 + 5_010)).toBe(true);
    expect((await caps.limited(PRO, 'q/3', T0 + 5_020)).learnedCap).toBe(3);
    expect(await caps.acquire(PRO, 'q/3', undefined, T0 + 10_000)).toBe(false);
    expect(await caps.acquire(PRO, 'q/3', undefined, T0 + 15_030)).toBe(true);
    // This probe is accepted: the raised cap stays.
    await caps.created(PRO, 'q/3', T0 + 15_040);
    expect((await caps.learned(T0 + 15_050)).map((c) => [c.model, c.cap, c.since, c.rejects])).toEqual([
      [PRO, 4, T0 + 10, 2],
    ]);
    const state = await readGovernorState(redis, { prefix, apiKey: 'k', now: T0 + 15_050 });
    expect(state.learnedCaps).toHaveLength(1);
    expect(state.factor).toBe(1);
    // Not confirmed for longer than its time to live: forgotten.
    expect(await caps.learned(T0 + 15_040 + 60_001)).toEqual([]);
    expect(await caps.acquire(PRO, 'q/5', undefined, T0 + 15_040 + 60_001)).toBe(true);
  });

  it('calls a 429 the rate limit when creates succeeded with as many runs in flight, on a GET, or on two models at once', async () => {
    const caps = new InflightCaps(redis, { prefix: uniquePrefix(), apiKey: 'k' });
    await fill(caps, PRO, 5, T0);
    await caps.created(PRO, 'q/4', T0); // accepted with 4 others in flight
    await caps.release(PRO, 'q/4');
    await caps.release(PRO, 'q/3');
    expect(await caps.acquire(PRO, 'q/3', undefined, T0 + 10)).toBe(true);
    // Refused with 3 in flight, though a create got through with 4: not the cap.
    expect((await caps.limited(PRO, 'q/3', T0 + 20)).kind).toBe('rate');

    const other = new InflightCaps(redis, { prefix: uniquePrefix(), apiKey: 'k' });
    await fill(other, PRO, 3, T0);
    await fill(other, NB2, 3, T0);
    expect((await other.limited(undefined, 'q/x', T0)).kind).toBe('rate'); // a GET met the limit
    expect((await other.limited(PRO, 'q/2', T0 + 100)).kind).toBe('rate');
    expect((await other.limited(NB2, 'q/2', T0 + 1_000)).kind).toBe('rate'); // PRO's was the rate just now
    expect((await other.limited(NB2, 'q/1', T0 + 3_500)).kind).toBe('cap'); // that evidence is over 2 s old
  });
});

describe('rate governor: 429s that do not follow the rate', () => {
  /** Grants at `perSecond` for `ms` (the clock moves); a 429 for each request `refused(n)` picks. */
  async function traffic(
    governor: RateGovernor,
    clock: { now: number },
    perSecond: number,
    ms: number,
    refused: (n: number) => boolean,
  ): Promise<void> {
    const step = 1000 / perSecond;
    for (let t = 0, n = 1; t < ms; t += step, n += 1) {
      clock.now += step;
      await governor.acquire('q', 1, 10_000);
      if (refused(n)) await governor.penalize(undefined);
    }
  }
  const governorAt = (clock: { now: number }, requestsPerSecond: number) =>
    new RateGovernor(redis, { prefix: uniquePrefix(), apiKey: 'k', requestsPerSecond, burst: 5, now: () => clock.now });

  it('undoes a halving that cut the requests that got through as much as the rate, and holds', async () => {
    const clock = { now: T0 };
    const governor = governorAt(clock, 20);
    const everyFourth = (n: number) => n % 4 === 0;
    // Every 4th request refused, whatever the rate: halved once ...
    await traffic(governor, clock, 20, 250, everyFourth);
    expect((await governor.state()).factor).toBeCloseTo(0.5, 1);
    // ... at half the rate, half as many get through and the 429s go on: undone, and held.
    await traffic(governor, clock, 10, 2_000, everyFourth);
    const state = await governor.state();
    expect(state).toMatchObject({ factor: 1, ceiling: 1, penalties: 1, undone: 1 });
    expect(state.holdUntil).toBeGreaterThan(clock.now);
    await traffic(governor, clock, 20, 10_000, everyFourth);
    expect(await governor.state()).toMatchObject({ factor: 1, penalties: 1 });
  });

  it('keeps halving a real rate limit: the requests that got through stay the same', async () => {
    const clock = { now: T0 };
    const governor = governorAt(clock, 40);
    // Under a limit of 10/s for 3 s, then 40/s: 3 of 4 refused; halved to 20/s: 1 of 2 — the same 10/s get through.
    await traffic(governor, clock, 10, 3_000, () => false);
    await traffic(governor, clock, 40, 400, (n) => n % 4 !== 0);
    expect((await governor.state()).penalties).toBe(1);
    await traffic(governor, clock, 20, 2_000, (n) => n % 2 === 0);
    const state = await governor.state();
    expect(state.undone).toBe(0);
    expect(state.penalties).toBe(2);
    expect(state.factor).toBeLessThan(0.4);
  });
});
