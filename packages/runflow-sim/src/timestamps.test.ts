import { describe, expect, it } from 'vitest';
import { isoTimestamp } from './timestamps.ts';

describe('isoTimestamp', () => {
  it('prints Python isoformat: six fraction digits and +00:00', () => {
    expect(isoTimestamp(Date.UTC(2026, 10, 22, 1, 2, 3, 123) + 0.456)).toBe('2026-11-22T01:02:03.123456+00:00');
    expect(isoTimestamp(Date.UTC(2026, 0, 1))).toBe('2026-01-01T00:00:00.000000+00:00');
  });
});
