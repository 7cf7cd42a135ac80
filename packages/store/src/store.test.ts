import { uniquePrefix } from '@runflow-queue/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CallbackInbox, queueKeys, RETENTION_SECONDS, RunIndex, runQueueKey, SpendLedger } from './index.ts';

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
    const prefix = uniquePrefix();
    const inbox = new CallbackInbox(redis, { prefix });
    expect(await inbox.store('q1', 'run-1', 'ref-1', body('run-1'))).toBe(true);
    // Kept as long as a job may still read them (24 h), not the week they used to be.
    const keys = queueKeys(prefix, 'q1');
    for (const key of [keys.inbox('run-1'), keys.ref('ref-1')]) {
      expect(await redis.ttl(key)).toBeGreaterThan(24 * 3600 - 60);
      expect(await redis.ttl(key)).toBeLessThanOrEqual(24 * 3600);
    }
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
    const prefix = uniquePrefix();
    const index = new RunIndex(redis, { prefix });
    await index.record('q1', 'run-9', 'job:with\nodd|chars');
    expect(await index.locate('run-9')).toEqual({ queue: 'q1', jobId: 'job:with\nodd|chars' });
    expect(await index.locate('nope')).toBeUndefined();
    // One key per run, kept 7 days (as long as a failed job that could own a late callback).
    expect(await redis.ttl(runQueueKey(prefix, 'run-9'))).toBeGreaterThan(RETENTION_SECONDS.runIndex - 60);
    expect(RETENTION_SECONDS.runIndex).toBe(7 * 24 * 3600);
  });

  it('still reads an entry an earlier deploy wrote as JSON', async () => {
    const prefix = uniquePrefix();
    await redis.set(runQueueKey(prefix, 'run-old'), JSON.stringify({ queue: 'q1', jobId: 'job-1' }));
    expect(await new RunIndex(redis, { prefix }).locate('run-old')).toEqual({ queue: 'q1', jobId: 'job-1' });
  });

  it('divides its retention by the retention divisor (benchmarks)', async () => {
    const prefix = uniquePrefix();
    await new RunIndex(redis, { prefix, retentionDivisor: 3600 }).record('q1', 'run-1', 'job-1');
    expect(await redis.ttl(runQueueKey(prefix, 'run-1'))).toBe(7 * 24);
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
      },
    ]);
    expect(await ledger.totalMicroUsd(['q1'])).toBe(150_000);
  });
});
