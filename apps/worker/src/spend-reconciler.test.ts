import { createRedis, type RedisClient, SpendLedger, SpendRecords } from '@runflow-queue/store';
import { uniquePrefix } from '@runflow-queue/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PER_RUN_LOOKUPS } from './confirm-runs.ts';
import { RECONCILER_GOVERNOR_QUEUE, type ReconcileDeps } from './reconcile-deps.ts';
import { SpendReconciler } from './spend-reconciler.ts';

// The reconciler on plain objects for Runflow and the governor, a real Redis for the ledger: it asks
// the governor for every request at its own low share, stops a pass when refused, prefers pages when
// many runs wait, and only one process of the fleet works at a time.

let redis: RedisClient;
beforeAll(() => {
  redis = createRedis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await redis.quit();
});

const runId = (i: number) => `01a23b17-${(0x6e08 + i).toString(16).padStart(4, '0')}-7037-8f50-27b310f626b3`;

function harness(options: { granted: boolean }) {
  const prefix = uniquePrefix();
  const ledger = new SpendLedger(redis, { prefix });
  const calls = { acquire: [] as [string, number][], getRun: 0, listRuns: 0, getBalance: 0 };
  const run = (id: string) => ({ id, status_code: 'succeeded', cost: '0.100000', output: null, metadata: null });
  const deps: ReconcileDeps = {
    client: {
      getRun: async (id: string) => {
        calls.getRun += 1;
        return run(id);
      },
      listRuns: async () => {
        calls.listRuns += 1;
        return { runs: Array.from({ length: 30 }, (_, i) => run(runId(i))), next: null };
      },
      getBalance: async () => {
        calls.getBalance += 1;
        return { balanceCents: 100, currency: 'USD' };
      },
    } as unknown as ReconcileDeps['client'],
    governor: {
      acquire: async (queue: string, share: number) => {
        calls.acquire.push([queue, share]);
        return options.granted ? { granted: true, delayMs: 0 } : { granted: false, waitMs: 1_000 };
      },
      penalize: async () => 0,
    },
    ledger,
    records: new SpendRecords(redis, { prefix }),
    runIndex: { jobOf: async () => undefined },
    modelIds: { slugOf: async () => undefined },
    queue: () => undefined,
    redis,
    prefix,
    share: 0.05,
    logger: pino({ level: 'silent' }),
    now: Date.now,
  };
  const settle = (i: number) =>
    ledger.settle({
      queue: 'edits',
      runId: runId(i),
      model: 'google/nano-banana-pro/edit',
      day: '2026-12-03',
      outcome: 'completed',
      images: 1,
      costMicroUsd: 150_000,
      completedBy: 'callback',
    });
  const options2 = { intervalMs: 60_000, healLagMs: 0, healLookbackMs: 3_600_000, balanceEveryMs: 1 };
  return { deps, calls, ledger, settle, reconciler: () => new SpendReconciler(deps, options2) };
}

describe('spend reconciler', () => {
  it('asks the governor for every request at its low share, and sends nothing when refused', async () => {
    const h = harness({ granted: false });
    await h.settle(0);
    const tick = await h.reconciler().tick();
    expect(tick.leader).toBe(true);
    expect(h.calls.getRun + h.calls.listRuns + h.calls.getBalance).toBe(0);
    expect(h.calls.acquire.length).toBeGreaterThan(0);
    expect(h.calls.acquire.every(([queue, share]) => queue === RECONCILER_GOVERNOR_QUEUE && share === 0.05)).toBe(true);
    expect((await h.ledger.unconfirmedSummary()).count).toBe(1);
  });

  it('looks a few runs up one by one, and many from pages of the run list', async () => {
    const few = harness({ granted: true });
    for (let i = 0; i < 3; i += 1) await few.settle(i);
    await few.reconciler().tick();
    expect(few.calls.getRun).toBe(3);
    expect((await few.ledger.unconfirmedSummary()).count).toBe(0);
    const [row] = await few.ledger.rows(['edits']);
    expect(row).toMatchObject({ spendMicroUsd: 300_000, adjustmentsMicroUsd: -150_000, adjustedRuns: 3 });

    const many = harness({ granted: true });
    for (let i = 0; i < PER_RUN_LOOKUPS + 10; i += 1) await many.settle(i);
    await many.reconciler().tick();
    expect(many.calls.getRun).toBe(0);
    // One page for the confirmations, one for the heal scan.
    expect(many.calls.listRuns).toBe(2);
    expect((await many.ledger.unconfirmedSummary()).count).toBe(0);
  });

  it('works in one process at a time: the lease', async () => {
    const h = harness({ granted: true });
    const first = h.reconciler();
    const second = h.reconciler();
    expect((await first.tick()).leader).toBe(true);
    expect((await second.tick()).leader).toBe(false);
    await first.close();
    expect((await second.tick()).leader).toBe(true);
    await second.close();
  });
});
