import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BOUNDS_CASES } from './bounds-cases.ts';
import { CALLER_CASES } from './caller-cases.ts';
import { DASHBOARD_CASES } from './dashboard-cases.ts';
import { keyCount, processesUp, startSurfaces, stopSurfaces, VALID_STATUS, validRequest } from './harness.ts';
import { HTTP_CASES } from './http-cases.ts';
import { PRODUCER_CASES } from './producer-cases.ts';

// The bad-input catalogue (invariant 7, and 6 for callbacks): every case names its surface, the stable
// code and HTTP status it must get, and how many Redis keys it may add (almost always none). After each
// case a valid request on the same surface must still succeed, and the processes must still be up.
// The catalogue covers the bounds (depth, delay, IPv4-in-IPv6 webhooks, ledger names), callers kept apart,
// and the dashboard's roles (a viewer's every write action; an operator's forged step and run).

const CASES = [...PRODUCER_CASES, ...HTTP_CASES, ...BOUNDS_CASES, ...CALLER_CASES, ...DASHBOARD_CASES];

beforeAll(() => startSurfaces(inject('redisUrl')));
afterAll(() => stopSurfaces());

describe('bad-input catalogue', () => {
  it('has at least 90 cases over the producer, the HTTP API, callback-ingest and the dashboard', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(90);
    expect(new Set(CASES.map((c) => c.surface))).toEqual(new Set(['producer', 'api', 'ingest', 'dashboard']));
    expect(new Set(CASES.map((c) => `${c.surface}: ${c.name}`)).size).toBe(CASES.length);
  });

  it.each(CASES)('$surface: $name → $status $code', async (badCase) => {
    await badCase.prepare?.();
    const before = await keyCount();
    const outcome = await badCase.send();
    expect(outcome).toEqual({ status: badCase.status, code: badCase.code });
    expect(await keyCount()).toBe(before + (badCase.keysAdded ?? 0));
    await badCase.verify?.();
    // Prototype pollution would show up on every object of this process.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Still serving: a valid request on the same surface succeeds, and the processes are up.
    const valid = await validRequest(badCase.surface);
    expect(valid.status).toBe(VALID_STATUS[badCase.surface]);
    expect(processesUp()).toBe(true);
  });
});
