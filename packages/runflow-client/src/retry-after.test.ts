import { describe, expect, it } from 'vitest';
import { parseRetryAfterMs } from './retry-after.ts';

describe('parseRetryAfterMs', () => {
  const nowMs = Date.parse('2026-04-20T10:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfterMs('2', nowMs)).toBe(2000);
    expect(parseRetryAfterMs(' 0 ', nowMs)).toBe(0);
    expect(parseRetryAfterMs(['7', '9'], nowMs)).toBe(7000);
  });

  it('reads an HTTP-date relative to now, never negative', () => {
    expect(parseRetryAfterMs('Mon, 20 Apr 2026 10:00:30 GMT', nowMs)).toBe(30_000);
    expect(parseRetryAfterMs('Mon, 20 Apr 2026 09:00:00 GMT', nowMs)).toBe(0);
  });

  it('gives undefined when absent or unreadable, so the caller uses its own backoff', () => {
    expect(parseRetryAfterMs(undefined, nowMs)).toBeUndefined();
    expect(parseRetryAfterMs('', nowMs)).toBeUndefined();
    expect(parseRetryAfterMs('-5', nowMs)).toBeUndefined();
    expect(parseRetryAfterMs('soon', nowMs)).toBeUndefined();
    expect(parseRetryAfterMs('1e3', nowMs)).toBeUndefined();
  });
});
