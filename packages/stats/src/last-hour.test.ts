import { describe, expect, it } from 'vitest';
import { lastHour } from './collect-stats.ts';

const minute = 60_000;
const at = (m: number) => 1_800_000_000_000 - (1_800_000_000_000 % minute) + m * minute;

describe('lastHour', () => {
  it('puts the not-yet-written minute last, after the written points', () => {
    const series = lastHour(
      { meta: { count: 10, prevTS: at(0) + 5_000, prevCount: 7 }, data: [4, 3], count: 2 },
      at(0) + 30_000,
    );
    expect(series).toHaveLength(60);
    expect(series.slice(-3)).toEqual([3, 4, 3]);
  });

  it('fills idle minutes since the last completion with zeros', () => {
    const series = lastHour({ meta: { count: 10, prevTS: at(0), prevCount: 8 }, data: [5], count: 1 }, at(3) + 1);
    expect(series.slice(-5)).toEqual([5, 2, 0, 0, 0]);
  });

  it('is all zeros before anything finished', () => {
    expect(lastHour({ meta: { count: 0, prevTS: 0, prevCount: 0 }, data: [], count: 0 }, at(0))).toEqual(
      Array(60).fill(0),
    );
  });
});
