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

describe('callback inbox: the job it names', () => {
  it('is current while the job is going with this run or none yet; otherwise ingest reads the job', async () => {
    const prefix = uniquePrefix();
    const inbox = new CallbackInbox(redis, { prefix });
    const jobKey = (id: string) => `${prefix}:{q1}:q1:${id}`;
    await redis.hset(jobKey('going'), 'data', JSON.stringify({ step: 'submitted', runId: 'run-a' }));
    await redis.hset(jobKey('no-run'), 'data', JSON.stringify({ step: 'submitting', clientRef: 'rq_1' }));
    await redis.hset(jobKey('other'), 'data', JSON.stringify({ step: 'submitted', runId: 'run-b' }));
    await redis.hset(jobKey('done'), 'data', JSON.stringify({ step: 'submitted', runId: 'run-a' }), 'finishedOn', '1');
    const look = async (id: string, runId: string) =>
      (await inbox.storeFor('q1', runId, undefined, body(runId), { jobKey: jobKey(id) })).current;
    expect(await look('going', 'run-a')).toBe(true);
    expect(await look('no-run', 'run-c')).toBe(true);
    expect(await look('other', 'run-d')).toBe(false);
    expect(await look('done', 'run-e')).toBe(false);
    expect(await look('missing', 'run-f')).toBe(false);
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
