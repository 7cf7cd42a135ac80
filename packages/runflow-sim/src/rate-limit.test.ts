import { describe, expect, it } from 'vitest';
import { TokenBucket } from './rate-limit.ts';

describe('TokenBucket', () => {
  it('allows a burst of `rate`, then one request per 1/rate seconds', () => {
    const bucket = new TokenBucket(5, 0);
    const burst = Array.from({ length: 7 }, () => bucket.take(0).ok);
    expect(burst).toEqual([true, true, true, true, true, false, false]);
    const refused = bucket.take(100);
    expect(refused).toEqual({ ok: false, retryAfterMs: expect.closeTo(100, 5) });
    expect(bucket.take(200).ok).toBe(true);
    expect(bucket.take(200).ok).toBe(false);
  });

  it('never holds more than the burst, and lets rates below 1/s through one at a time', () => {
    const bucket = new TokenBucket(2, 0);
    expect(bucket.remaining(60_000)).toBe(2);
    const slow = new TokenBucket(0.5, 0);
    expect(slow.take(0).ok).toBe(true);
    expect(slow.take(1000).ok).toBe(false);
    expect(slow.take(2000).ok).toBe(true);
  });

  it('rejects a rate that is not positive', () => {
    expect(() => new TokenBucket(0)).toThrow(RangeError);
  });
});
