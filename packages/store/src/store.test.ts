import { uniquePrefix } from '@runflow-queue/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CallbackInbox, RunIndex, SpendLedger } from './index.ts';

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(() => redis.quit());

const body = (runId: string) =>
  JSON.stringify({
    event: 'run.completed',
    run_id: runId,
    status: 'succeeded',
    output: { outputs: [] },
    metadata: null,
  });

describe('callback inbox', () => {
  it('keeps the first payload and counts duplicates', async () => {
    const inbox = new CallbackInbox(redis, { prefix: uniquePrefix() });
    expect(await inbox.store('q1', 'run-1', 'ref-1', body('run-1'))).toBe(true);
    expect(await inbox.store('q1', 'run-1', 'ref-1', body('run-1').replace('succeeded', 'failed'))).toBe(false);
    const entry = await inbox.read('q1', 'run-1');
    expect(entry?.payload.status).toBe('succeeded');
    expect(await inbox.runForClientRef('q1', 'ref-1')).toBe('run-1');
    expect(await inbox.counters('q1')).toEqual({ received: 1, duplicate: 1, unmatched: 0 });
    expect(await inbox.read('q1', 'run-2')).toBeUndefined();
  });
});

describe('run index', () => {
  it('finds the queue and job of a run', async () => {
    const index = new RunIndex(redis, { prefix: uniquePrefix() });
    await index.record('q1', 'run-9', 'job-9');
    expect(await index.locate('run-9')).toEqual({ queue: 'q1', jobId: 'job-9' });
    expect(await index.jobOf('q1', 'run-9')).toBe('job-9');
    expect(await index.locate('nope')).toBeUndefined();
  });
});

describe('spend ledger', () => {
  it('settles each run exactly once, even when settled concurrently', async () => {
    const ledger = new SpendLedger(redis, { prefix: uniquePrefix() });
    const settlement = {
      queue: 'q1',
      runId: 'run-1',
      model: 'google/nano-banana-pro/edit',
      day: '2026-11-22',
      outcome: 'completed' as const,
      images: 1,
      costMicroUsd: 150_000,
      completedBy: 'callback' as const,
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => ledger.settle(settlement)));
    expect(results.filter(Boolean)).toHaveLength(1);
    await ledger.settle({
      ...settlement,
      runId: 'run-2',
      costMicroUsd: 0,
      images: 0,
      outcome: 'failed',
      completedBy: 'poll',
    });
    const rows = await ledger.rows(['q1']);
    expect(rows).toEqual([
      {
        queue: 'q1',
        day: '2026-11-22',
        model: 'google/nano-banana-pro/edit',
        costCenter: '-',
        caller: '-',
        completed: 1,
        failed: 1,
        images: 1,
        spendMicroUsd: 150_000,
        byCallback: 1,
        byPoll: 1,
        wasteMicroUsd: 0,
        wasteRuns: 0,
        // Neither carried Runflow's cost: both booked from the table, waiting for the reconciler.
        estimatedMicroUsd: 150_000,
        confirmedMicroUsd: 0,
        adjustmentsMicroUsd: 0,
        unconfirmedRuns: 2,
        tableRuns: 0,
        adjustedRuns: 0,
      },
    ]);
    expect(await ledger.totalMicroUsd(['q1'])).toBe(150_000);
  });
});
