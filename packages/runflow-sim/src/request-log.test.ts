import { describe, expect, it } from 'vitest';
import { RequestLog } from './sim-context.ts';

describe('RequestLog', () => {
  it('keeps arrival times in order and drops the oldest half when full', () => {
    const log = new RequestLog(4);
    for (const at of [1, 2, 3, 4, 5]) log.record(at);
    expect(log.snapshot()).toEqual([3, 4, 5]);
    log.clear();
    expect(log.snapshot()).toEqual([]);
  });
});
