import { uniquePrefix } from '@runflow-queue/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AccountHolds, submitHoldOf } from './index.ts';

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(() => redis.quit());

function fakeClock(start = 1_800_000_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const policy = { failures: 3, windowMs: 1_000, probeBaseMs: 5_000, probeMaxMs: 30_000 };

describe('account holds', () => {
  it('the breaker opens on failures in a row within the window, one probe at a time with backoff to 30 s, closes on success', async () => {
    const clock = fakeClock();
    const holds = new AccountHolds(redis, { prefix: uniquePrefix(), accountKey: 'rf_key', now: clock.now });
    // Two failures, an answer, two failures: no three in a row, so it stays closed.
    await holds.recordFailure('503', policy);
    await holds.recordFailure('503', policy);
    await holds.recordSuccess();
    await holds.recordFailure('503', policy);
    clock.advance(1_500);
    await holds.recordFailure('503', policy);
    await holds.recordFailure('503', policy);
    expect((await holds.snapshot()).breaker.open).toBe(false);
    expect(await holds.recordFailure('SERVICE_UNAVAILABLE', policy)).toBe(true);
    const opened = (await holds.snapshot()).breaker;
    expect(opened).toMatchObject({ open: true, since: clock.now(), nextProbeAt: clock.now() + 5_000, opens: 1 });
    expect(opened.reason).toContain('SERVICE_UNAVAILABLE');

    expect(await holds.claimProbe('breaker', 10_000)).toBe(false);
    const waits: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const { nextProbeAt } = (await holds.snapshot()).breaker;
      waits.push((nextProbeAt ?? 0) - clock.now());
      clock.advance((nextProbeAt ?? 0) - clock.now());
      expect(await holds.claimProbe('breaker', 10_000)).toBe(true);
      expect(await holds.claimProbe('breaker', 10_000)).toBe(false);
      await holds.breakerProbeFailed(policy);
    }
    expect(waits).toEqual([5_000, 10_000, 20_000, 30_000, 30_000]);
    const openFor = 95_000;
    expect((await holds.snapshot()).breaker.openTotalMs).toBe(openFor);
    expect(await holds.recordSuccess()).toBe(true);
    clock.advance(60_000);
    expect((await holds.snapshot()).breaker).toMatchObject({ open: false, openTotalMs: openFor, lastOpenMs: openFor });
  });

  it('a credit hold starts once, is probed on its interval, and lifts; pauses stop one queue or all', async () => {
    const clock = fakeClock();
    const holds = new AccountHolds(redis, { prefix: uniquePrefix(), accountKey: 'rf_key', now: clock.now });
    expect(await holds.holdCredit('INSUFFICIENT_CREDIT: top up', 10_000)).toBe(true);
    expect(await holds.holdCredit('INSUFFICIENT_CREDIT: again', 10_000)).toBe(false);
    const snapshot = await holds.snapshot();
    expect(snapshot.credit).toMatchObject({ held: true, reason: 'INSUFFICIENT_CREDIT: top up', holds: 1 });
    expect(submitHoldOf(snapshot, 'catalog')).toEqual({
      kind: 'credit',
      reason: 'credit hold: INSUFFICIENT_CREDIT: top up',
    });
    expect(await holds.claimProbe('credit', 5_000)).toBe(false);
    clock.advance(10_000);
    expect(await holds.claimProbe('credit', 5_000)).toBe(true);
    await holds.creditStillSpent(10_000);
    expect((await holds.snapshot()).credit.nextProbeAt).toBe(clock.now() + 10_000);
    clock.advance(20_000);
    expect(await holds.liftCredit()).toBe(true);
    expect((await holds.snapshot()).credit).toMatchObject({ held: false, lastHoldMs: 30_000, holdTotalMs: 30_000 });

    await holds.pause('catalog', 'bad prompts', 'ops');
    let now = await holds.snapshot();
    expect(submitHoldOf(now, 'catalog')).toEqual({ kind: 'pause', reason: 'queue catalog paused by ops: bad prompts' });
    expect(submitHoldOf(now, 'other')).toBeUndefined();
    await holds.pause(undefined, 'migration', 'ops');
    now = await holds.snapshot();
    expect(submitHoldOf(now, 'other')?.reason).toBe('account paused by ops: migration');
    expect(now.pauses.map((p) => p.queue)).toEqual([undefined, 'catalog']);
    expect(await holds.resume(undefined)).toBe(true);
    expect(await holds.resume(undefined)).toBe(false);
    expect(await holds.resume('catalog')).toBe(true);
    expect(submitHoldOf(await holds.snapshot(), 'catalog')).toBeUndefined();
  });
});
