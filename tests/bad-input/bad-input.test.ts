import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { keyCount, processesUp, startSurfaces, stopSurfaces, validRequest } from './harness.ts';
import { HTTP_CASES } from './http-cases.ts';
import { PRODUCER_CASES } from './producer-cases.ts';

// The bad-input catalogue (invariant 7, and 6 for callbacks): every case names its surface, the stable
// code and HTTP status it must get, and how many Redis keys it may add (almost always none). After each
// case a valid request on the same surface must still succeed, and the processes must still be up.

const CASES = [...PRODUCER_CASES, ...HTTP_CASES];

beforeAll(() => startSurfaces(inject('redisUrl')));
afterAll(() => stopSurfaces());

describe('bad-input catalogue', () => {
  it('has at least 40 cases over the producer, the HTTP API and callback-ingest', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.surface))).toEqual(new Set(['producer', 'api', 'ingest']));
  });

  it.each(CASES)('$surface: $name → $status $code', async (badCase) => {
    await badCase.prepare?.();
    const before = await keyCount();
    const outcome = await badCase.send();
    expect(outcome).toEqual({ status: badCase.status, code: badCase.code });
    expect(await keyCount()).toBe(before + (badCase.keysAdded ?? 0));
    // Prototype pollution would show up on every object of this process.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Still serving: a valid request on the same surface succeeds, and the processes are up.
    const valid = await validRequest(badCase.surface);
    expect(valid.status).toBe(badCase.surface === 'ingest' ? 200 : 202);
    expect(processesUp()).toBe(true);
  });
});
