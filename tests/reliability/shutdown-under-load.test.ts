import { type AppProcess, spawnApp } from '@runflow-queue/runtime';
import { failureCode } from '@runflow-queue/shared';
import { bullPrefix, duplicateForBlocking } from '@runflow-queue/store';
import { QueueEvents } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { type LatencyProxy, startLatencyProxy } from '../../bench/support/latency-proxy.ts';
import { type Fleet, proEdit, startFleet, waitFor } from '../support/fleet.ts';

// Invariant 8 under load: SIGTERM while dozens of jobs are mid-submit or mid-finalize, with the
// simulator failing, resetting and dropping things. The worker stops pulling, lets active jobs finish
// or park, exits 0 within SHUTDOWN_GRACE_MS, leaves nothing active (nothing for the stalled checker
// to rescue), and every job still ends with exactly one run, paid once.

const GRACE_MS = 8_000;
const JOBS = 400;

let fleet: Fleet | undefined;
let proxy: LatencyProxy | undefined;
let events: QueueEvents | undefined;
let blocking: ReturnType<typeof duplicateForBlocking> | undefined;
const apps: AppProcess[] = [];
afterEach(async () => {
  await Promise.all(apps.map((app) => app.stop(5_000)));
  apps.length = 0;
  await events?.close();
  blocking?.disconnect();
  await proxy?.close();
  await fleet?.close();
  events = undefined;
  blocking = undefined;
  proxy = undefined;
  fleet = undefined;
});

describe('shutdown under load', () => {
  it('SIGTERM during a busy, faulty run: exit 0 within the grace period, nothing stalls, nothing lost', async () => {
    fleet = await startFleet({
      workers: false,
      sim: {
        latencyMs: { min: 300, max: 1_000 },
        faults: {
          createServerError: 0.05,
          getServerError: 0.05,
          resetAfterCreate: 0.03,
          runFailed: 0.02,
          callbackDrop: 0.05,
          callbackDuplicate: 0.05,
          callbackOutOfOrder: 0.03,
        },
      },
    });
    const f = fleet;
    // Runflow is across a network: every request takes 150–300 ms, so jobs hold their slots while they submit.
    proxy = await startLatencyProxy(f.sim.url, { min: 150, max: 300 });
    blocking = duplicateForBlocking(f.redis);
    events = new QueueEvents('edits', { connection: blocking, prefix: bullPrefix(f.prefix, 'edits') });
    let stalls = 0;
    events.on('stalled', () => {
      stalls += 1;
    });
    await events.waitUntilReady();
    const queue = f.producer.queue('edits');
    await f.producer.enqueueEdits(
      'edits',
      Array.from({ length: JOBS }, (_, i) => proEdit(`shutdown ${i}`)),
    );
    const env = {
      REDIS_URL: f.redisUrl,
      REDIS_PREFIX: f.prefix,
      QUEUES: 'edits',
      RUNFLOW_BASE_URL: proxy.url,
      RUNFLOW_API_KEY: f.sim.apiKey,
      CALLBACK_URL: f.callbackUrl,
      WORKER_CONCURRENCY: '32',
      FIRST_POLL_DELAY_MS: '1500',
      POLL_INTERVAL_MS: '500',
      AMBIGUOUS_GRACE_MS: '1000',
      // Short lock: a job a stopped worker left active would be reported stalled within seconds.
      LOCK_DURATION_MS: '3000',
      RUNFLOW_RATE_LIMIT_PER_SECOND: '1000',
      RUNFLOW_RATE_BURST: '100',
      RUNFLOW_TIMEOUT_MS: '5000',
      SHUTDOWN_GRACE_MS: String(GRACE_MS),
      LOG_LEVEL: 'info',
    };
    const worker = async () => {
      const app = spawnApp('worker', env);
      apps.push(app);
      await app.waitFor('"msg":"worker started"');
      return app;
    };
    const sigterm = async (app: AppProcess) => {
      const started = Date.now();
      app.child.kill('SIGTERM');
      const exit = await app.exited;
      return { ...exit, ms: Date.now() - started };
    };

    // Round 1: the only worker, stopped while it holds many active jobs.
    const first = await worker();
    await waitFor(async () => (await queue.getActiveCount()) >= 20, 20_000, '20 active jobs');
    const firstExit = await sigterm(first);
    expect(firstExit).toMatchObject({ code: 0, signal: null });
    expect(firstExit.ms).toBeLessThan(GRACE_MS);
    expect(first.output()).toContain('worker stopped');
    expect(await queue.getActiveCount()).toBe(0);
    const finishedBefore = (await queue.getCompletedCount()) + (await queue.getFailedCount());
    expect(finishedBefore).toBeLessThan(JOBS);

    // Round 2: two workers; one is stopped under load while the other goes on.
    const second = await worker();
    const third = await worker();
    await waitFor(async () => (await queue.getActiveCount()) >= 20, 20_000, '20 active jobs again');
    const secondExit = await sigterm(second);
    expect(secondExit).toMatchObject({ code: 0, signal: null });
    expect(secondExit.ms).toBeLessThan(GRACE_MS);

    await waitFor(
      async () => (await queue.getCompletedCount()) + (await queue.getFailedCount()) === JOBS,
      60_000,
      'every job finished',
    );
    const thirdExit = await sigterm(third);
    expect(thirdExit).toMatchObject({ code: 0, signal: null });

    expect(stalls).toBe(0);
    const failed = await queue.getFailed(0, -1);
    expect(failed.map((job) => failureCode(job.failedReason)).filter((code) => code !== 'RUN_FAILED')).toEqual([]);
    // One run per job, even with ambiguous submits around the SIGTERMs (the key is honoured).
    const jobIds = f.sim.runs().map((run) => (run.metadata as { jobId: string }).jobId);
    expect(new Set(jobIds).size).toBe(jobIds.length);
    expect(jobIds.length).toBe(JOBS);
    await f.sim.whenCallbacksSettled();
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(f.sim.billing().totalMicroUsd);
  });
});
