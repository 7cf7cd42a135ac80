import { createRunflowClient } from '@runflow-queue/runflow-client';
import { workloadsFromQueues } from '@runflow-queue/runtime';
import { createRedis } from '@runflow-queue/store';
import { DEFAULT_LIFECYCLE, startEditWorkers } from '@runflow-queue/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { OwnRedis } from '../reliability/support/own-redis.ts';
import { type Fleet, quietLogger, startFleet, waitFor } from '../support/fleet.ts';
import { enqueueMany, FAST_HOLDS, waitAllEnded } from './holds-support.ts';

// Invariant 9: a job with a run is never given up before its run. Redis refusing writes (maxmemory
// with noeviction) while paid runs finish must not fail them (ATTEMPTS_EXHAUSTED), lose their
// settlement, or pay twice: the workers back off and retry, and every run is settled once.

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {});
  cleanup.length = 0;
});

describe('Redis refusing writes in the worker', () => {
  it('jobs finishing while Redis is at maxmemory (noeviction) park and retry: none fails, each run settled once', {
    timeout: 120_000,
  }, async () => {
    const redis = await new OwnRedis().start();
    cleanup.push(() => redis.close());
    const f: Fleet = await startFleet({
      redisUrl: redis.url,
      holds: FAST_HOLDS,
      lockDurationMs: 5_000,
      sim: { latencyMs: { min: 300, max: 900 } },
      lifecycle: { firstPollDelayMs: 1_000 },
    });
    cleanup.push(() => f.close());
    const admin = createRedis(redis.url);
    cleanup.push(() => admin.quit());
    await admin.config('SET', 'maxmemory-policy', 'noeviction');

    const ids = await enqueueMany(f.producer, 'edits', 40, 'oom');
    // Some runs created and finishing, others still to submit: then Redis refuses every write for 4 s.
    await waitFor(async () => f.sim.runs().length >= 10, 15_000, 'ten runs created');
    await admin.config('SET', 'maxmemory', '1');
    // A worker that starts now (a deploy, a replaced pod) starts anyway and waits out the trouble.
    const started = Date.now();
    const late = await startEditWorkers({
      connection: f.redis,
      prefix: f.prefix,
      workloads: workloadsFromQueues(['edits'], { concurrency: 4, requestsPerSecond: 10_000, burst: 10_000 }),
      governorKey: f.sim.apiKey,
      client: createRunflowClient({ baseUrl: f.sim.url, apiKey: f.sim.apiKey }),
      logger: quietLogger,
      holds: FAST_HOLDS,
      lockDurationMs: 5_000,
      lifecycle: {
        ...DEFAULT_LIFECYCLE,
        callbackUrl: f.callbackUrl,
        firstPollDelayMs: 1_000,
        pollIntervalMs: 500,
        ambiguousGraceMs: 2_000,
      },
    });
    cleanup.push(() => late.close());
    expect(Date.now() - started).toBeLessThan(3_000);
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    await admin.config('SET', 'maxmemory', '0');

    expect(await waitAllEnded(f, 'edits', ids, 60_000)).toEqual([]);
    expect(f.sim.runs()).toHaveLength(40);
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(f.sim.billing().totalMicroUsd);
  });
});
