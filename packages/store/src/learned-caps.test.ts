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

/** Members q/0 … q/(n-1) take a slot each (no configured cap) and their creates are accepted. */
async function fill(caps: InflightCaps, model: string, n: number, now: number): Promise<void> {
  for (let i = 0; i < n; i += 1) {
    expect(await caps.acquire(model, `q/${i}`, undefined, now)).toBe(true);
    await caps.created(model, `q/${i}`, now);
  }
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
    await caps.created(PRO, 'q/2', T0 + 40);
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
    await fill(caps, PRO, 5, T0); // the last accepted with 4 others in flight
    await caps.release(PRO, 'q/4');
    await caps.release(PRO, 'q/3');
    expect(await caps.acquire(PRO, 'q/3', undefined, T0 + 10)).toBe(true);
    // Refused with 3 in flight, though a create got through with 4: not the cap.
    expect((await caps.limited(PRO, 'q/3', T0 + 20)).kind).toBe('rate');

    const other = new InflightCaps(redis, { prefix: uniquePrefix(), apiKey: 'k' });
    await fill(other, PRO, 3, T0 - 20_000);
    await fill(other, NB2, 3, T0 - 20_000); // long enough ago not to count as evidence
    expect((await other.limited(undefined, 'q/x', T0)).kind).toBe('rate'); // a GET met the limit
    expect((await other.limited(PRO, 'q/2', T0 + 100)).kind).toBe('rate');
    expect((await other.limited(NB2, 'q/2', T0 + 1_000)).kind).toBe('rate'); // PRO's was the rate just now
    expect((await other.limited(NB2, 'q/1', T0 + 3_500)).kind).toBe('cap'); // that evidence is over 2 s old
  });

  it('calls a 429 one below the learned cap the cap, nothing else answered; three in a row lower the cap', async () => {
    const caps = new InflightCaps(redis, { prefix: uniquePrefix(), apiKey: 'k' });
    // A create got through with 4 others in flight (ours one ahead of Runflow's: a callback is late),
    // then a 429 came with 5: the cap is learned one high, at 5.
    await fill(caps, PRO, 5, T0);
    expect(await caps.acquire(PRO, 'q/5', undefined, T0 + 10)).toBe(true);
    expect(await caps.limited(PRO, 'q/5', T0 + 20)).toEqual({ kind: 'cap', others: 5, learnedCap: 5 });
    // A run ends; 429s with 4 in flight, one below the cap, and only this model in use: the cap still
    // (it was the rate limit before, and halved the fleet's rate, seen in CI under load).
    await caps.release(PRO, 'q/4');
    expect(await caps.acquire(PRO, 'q/5', undefined, T0 + 30)).toBe(true);
    expect(await caps.limited(PRO, 'q/5', T0 + 40)).toEqual({ kind: 'cap', others: 4, learnedCap: 5 });
    // The third 429 in a row, one below: Runflow's cap is 4 (our count is at least Runflow's).
    expect(await caps.acquire(PRO, 'q/5', undefined, T0 + 50)).toBe(true);
    expect(await caps.limited(PRO, 'q/5', T0 + 60)).toEqual({ kind: 'cap', others: 4, learnedCap: 4 });
    // Two below the learned cap, with as many in flight as got through: the rate limit, as before.
    await caps.release(PRO, 'q/3');
    await caps.release(PRO, 'q/2');
    expect(await caps.acquire(PRO, 'q/5', undefined, T0 + 70)).toBe(true);
    expect((await caps.limited(PRO, 'q/5', T0 + 80)).kind).toBe('rate');
  });

  it('calls a 429 the cap when it picks one model: other requests get through and meet no 429', async () => {
    const caps = new InflightCaps(redis, { prefix: uniquePrefix(), apiKey: 'k' });
    // PRO got through with 4 others in flight by our count (runs Runflow finished whose callbacks are
    // late still count): a 429 with 3 in flight is not the cap by the count alone.
    await fill(caps, PRO, 5, T0);
    await caps.release(PRO, 'q/4');
    await caps.release(PRO, 'q/3');
    expect(await caps.acquire(PRO, 'q/3', undefined, T0 + 10)).toBe(true);
    // But NB2's creates get through meanwhile (two at once), and no NB2 create (nor a GET) met a 429: the cap.
    for (const member of ['n/0', 'n/1']) {
      expect(await caps.acquire(NB2, member, undefined, T0 + 15)).toBe(true);
      await caps.created(NB2, member, T0 + 15);
    }
    await caps.release(NB2, 'n/1');
    // One such 429 teaches no cap (under the rate limit the first 429s may fall on either model) ...
    expect(await caps.limited(PRO, 'q/3', T0 + 20)).toEqual({ kind: 'cap', others: 3, learnedCap: undefined });
    expect(await caps.acquire(PRO, 'q/3', undefined, T0 + 21)).toBe(true);
    expect(await caps.limited(PRO, 'q/3', T0 + 22)).toEqual({ kind: 'cap', others: 3, learnedCap: undefined });
    // ... a third in a row does: Runflow is at its cap, and our count is at least Runflow's.
    expect(await caps.acquire(PRO, 'q/3', undefined, T0 + 23)).toBe(true);
    expect(await caps.limited(PRO, 'q/3', T0 + 24)).toEqual({ kind: 'cap', others: 3, learnedCap: 3 });
    // Once NB2 meets a 429 too (with as many in flight as got through: not its cap), it is the rate
    // limit, and so are PRO's 429s again.
    expect(await caps.acquire(NB2, 'n/1', undefined, T0 + 30)).toBe(true);
    expect((await caps.limited(NB2, 'n/1', T0 + 40)).kind).toBe('rate');
    await caps.release(PRO, 'q/2');
    expect(await caps.acquire(PRO, 'q/3', undefined, T0 + 50)).toBe(true);
    expect((await caps.limited(PRO, 'q/3', T0 + 60)).kind).toBe('rate');
    // A single model whose polls Runflow answers (commands on one connection run in order).
    const reads = new InflightCaps(redis, { prefix: uniquePrefix(), apiKey: 'k' });
    await fill(reads, PRO, 5, T0);
    await reads.release(PRO, 'q/4');
    await reads.release(PRO, 'q/3');
    expect(await reads.acquire(PRO, 'q/3', undefined, T0 + 10)).toBe(true);
    reads.answered(T0 + 12);
    expect((await reads.limited(PRO, 'q/3', T0 + 20)).kind).toBe('cap');
    // Answers older than the window (5 s) tell nothing: with fewer in flight than the learned cap and
    // than a create got through with, by the count, the rate limit.
    await reads.release(PRO, 'q/2');
    expect(await reads.acquire(PRO, 'q/3', undefined, T0 + 6_000)).toBe(true);
    expect((await reads.limited(PRO, 'q/3', T0 + 6_000)).kind).toBe('rate');
    // A model known to be capped: such a 429 lowers its learned cap to the runs in flight it came with
    // (Runflow is at its cap, and our count is at least Runflow's).
    const known = new InflightCaps(redis, { prefix: uniquePrefix(), apiKey: 'k' });
    await fill(known, PRO, 3, T0); // the last accepted with 2 others in flight
    expect(await known.acquire(PRO, 'q/3', undefined, T0 + 10)).toBe(true);
    expect(await known.limited(PRO, 'q/3', T0 + 20)).toEqual({ kind: 'cap', others: 3, learnedCap: 3 });
    await known.release(PRO, 'q/2');
    expect(await known.acquire(PRO, 'q/3', undefined, T0 + 30)).toBe(true);
    known.answered(T0 + 35);
    // The 429 that taught the cap and this one make two in a row: the cap stays; a third lowers it.
    expect(await known.limited(PRO, 'q/3', T0 + 40)).toEqual({ kind: 'cap', others: 2, learnedCap: 3 });
    expect(await known.acquire(PRO, 'q/3', undefined, T0 + 45)).toBe(true);
    expect(await known.limited(PRO, 'q/3', T0 + 50)).toEqual({ kind: 'cap', others: 2, learnedCap: 2 });
    // A GET's 429 is the rate limit, and so is a create's right after it.
    const get = new InflightCaps(redis, { prefix: uniquePrefix(), apiKey: 'k' });
    await fill(get, PRO, 5, T0);
    await fill(get, NB2, 1, T0);
    await get.release(PRO, 'q/4');
    await get.release(PRO, 'q/3');
    expect((await get.limited(undefined, 'q/x', T0 + 5)).kind).toBe('rate');
    expect(await get.acquire(PRO, 'q/3', undefined, T0 + 10)).toBe(true);
    expect((await get.limited(PRO, 'q/3', T0 + 20)).kind).toBe('rate');
  });
});

describe('rate governor: 429s that do not follow the rate', () => {
  /**
   * A fleet sending at the governor's rate (configured × factor) for `ms` while the clock moves; the
   * account refuses each request `refused(n, perSecond)` picks.
   */
  async function traffic(
    governor: RateGovernor,
    clock: { now: number },
    configured: number,
    ms: number,
    refused: (n: number, perSecond: number) => boolean,
  ): Promise<void> {
    const end = clock.now + ms;
    for (let n = 1; clock.now < end; n += 1) {
      const perSecond = configured * (await governor.state()).factor;
      clock.now += 1000 / perSecond;
      await governor.acquire('q', 1, 10_000);
      if (refused(n, perSecond)) await governor.penalize(undefined);
    }
  }
  const governorAt = (clock: { now: number }, requestsPerSecond: number) =>
    new RateGovernor(redis, { prefix: uniquePrefix(), apiKey: 'k', requestsPerSecond, burst: 5, now: () => clock.now });

  it('undoes halvings that cut the requests that got through as much as the rate, and holds', async () => {
    const clock = { now: T0 };
    const governor = governorAt(clock, 20);
    // Every 4th request refused, whatever the rate (the measurement: 1.0 → 0.059 in 65 s).
    const everyFourth = (n: number) => n % 4 === 0;
    await traffic(governor, clock, 20, 6_000, everyFourth);
    const state = await governor.state();
    expect(state.undone).toBe(1);
    expect(state.factor).toBe(1);
    expect(state.holdUntil).toBeGreaterThan(clock.now);
    // Held: 25 s more of the same leave the rate alone.
    await traffic(governor, clock, 20, 25_000, everyFourth);
    expect((await governor.state()).factor).toBe(1);
  });

  it('keeps halving a real rate limit until its 429s stop', async () => {
    const clock = { now: T0 };
    const governor = governorAt(clock, 40);
    // An account limit of 10/s: of each second's requests, those past the 10th are refused.
    let second = -1;
    let inSecond = 0;
    const overLimit = () => {
      const s = Math.floor((clock.now - T0) / 1000);
      if (s !== second) [second, inSecond] = [s, 0];
      inSecond += 1;
      return inSecond > 10;
    };
    let refusals = 0;
    await traffic(governor, clock, 40, 30_000, () => overLimit() && ++refusals > 0);
    const before = refusals;
    await traffic(governor, clock, 40, 20_000, () => overLimit() && ++refusals > 0);
    const state = await governor.state();
    expect(state.undone).toBe(0);
    expect(state.factor).toBeLessThanOrEqual(0.25);
    expect(refusals - before).toBe(0); // the last 20 s: no 429
  });
});
