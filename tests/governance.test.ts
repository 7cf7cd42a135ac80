import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkloadsConfigInput } from '@runflow-queue/shared';
import { failureCode } from '@runflow-queue/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { type Fleet, nb2Edit, proEdit, startFleet, waitFor } from './support/fleet.ts';
import { spawnWorker } from './support/worker-process.ts';

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

function writeWorkloads(config: WorkloadsConfigInput): string {
  const path = join(mkdtempSync(join(tmpdir(), 'rfq-workloads-')), 'workloads.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

async function finished(f: Fleet, queue: string, total: number, timeoutMs = 20_000) {
  const q = f.producer.queue(queue);
  await waitFor(
    async () => (await q.getCompletedCount()) + (await q.getFailedCount()) >= total,
    timeoutMs,
    `${total} finished`,
  );
  return { completed: await q.getCompleted(), failed: await q.getFailed() };
}

describe('budgets bind before money moves', () => {
  it('admits exactly six $0.15 runs on a $1.00 budget with four worker processes racing', async () => {
    fleet = await startFleet({ workers: false, queues: ['budgeted'] });
    const f = fleet;
    const file = writeWorkloads({
      rateLimit: { requestsPerSecond: 1000, burst: 1000 },
      queues: [{ name: 'budgeted', concurrency: 8, budget: { dailyUsd: 1, policy: 'fail' } }],
    });
    await f.producer.enqueueEdits(
      'budgeted',
      Array.from({ length: 24 }, (_, i) => proEdit(`race ${i}`)),
    );
    const workers = Array.from({ length: 4 }, () => spawnWorker(f, { WORKLOADS_FILE: file, QUEUES: 'budgeted' }));
    try {
      const { completed, failed } = await finished(f, 'budgeted', 24, 30_000);
      expect(completed).toHaveLength(6);
      expect(failed).toHaveLength(18);
      expect(new Set(failed.map((job) => failureCode(job.failedReason)))).toEqual(new Set(['BUDGET_EXCEEDED']));
      expect(failed[0].failedReason).toMatch(/daily budget of \$1\.000000/);
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
    }
    expect(f.sim.stats().runsCreated).toBe(6);
    expect(f.sim.billing().totalMicroUsd).toBe(900_000);
    expect(await f.ledger.totalMicroUsd(['budgeted'])).toBe(900_000);
  });

  it('holds jobs over budget until the next window under policy hold, submitting nothing', async () => {
    fleet = await startFleet({
      queues: ['held'],
      workloads: { queues: [{ name: 'held', budget: { dailyUsd: 0.2, policy: 'hold' } }] },
    });
    const f = fleet;
    const first = await f.producer.enqueueEdit('held', nb2Edit());
    await f.producer.waitForResult('held', first.id, { timeoutMs: 10_000 });
    // $0.08 spent of $0.20: a $0.16 job does not fit.
    const second = await f.producer.enqueueEdit('held', nb2Edit({ num_images: 2 }));
    const queue = f.producer.queue('held');
    await waitFor(async () => (await queue.getJobState(second.id)) === 'delayed', 5_000, 'second job held');
    // A third, cheap enough job still runs: the queue itself is not paused by the hold.
    const third = await f.producer.enqueueEdit('held', nb2Edit());
    await f.producer.waitForResult('held', third.id, { timeoutMs: 10_000 });
    const held = await queue.getJob(second.id);
    expect(held?.data.step).toBe('queued');
    expect(held?.data.runId).toBeUndefined();
    const tomorrow = new Date();
    tomorrow.setUTCHours(24, 0, 0, 0);
    expect((held?.timestamp ?? 0) + (held?.delay ?? 0)).toBeGreaterThanOrEqual(tomorrow.getTime() - 1_000);
    expect(f.sim.stats().runsCreated).toBe(2);
  });

  it('fails a job for a model its queue does not allow, before any money moves', async () => {
    fleet = await startFleet({
      queues: ['pro-only'],
      workloads: { queues: [{ name: 'pro-only', models: ['google/nano-banana-pro/edit'] }] },
    });
    const handle = await fleet.producer.enqueueEdit('pro-only', nb2Edit());
    const error = await fleet.producer.waitForResult('pro-only', handle.id, { timeoutMs: 10_000 }).catch((e) => e);
    expect((error as { code: string }).code).toBe('MODEL_NOT_ALLOWED');
    expect(fleet.sim.stats().createRequests).toBe(0);
  });
});

describe('in-flight cap', () => {
  it('keeps at most the cap of runs in flight for a model, and completes everything', async () => {
    fleet = await startFleet({
      sim: { latencyMs: { min: 400, max: 400 } },
      workloads: {
        models: { 'google/nano-banana-pro/edit': { maxInFlight: 3 } },
        queues: [{ name: 'edits', concurrency: 8 }],
      },
    });
    const f = fleet;
    await f.producer.enqueueEdits(
      'edits',
      Array.from({ length: 12 }, (_, i) => proEdit(`cap ${i}`)),
    );
    let maxInFlight = 0;
    const queue = f.producer.queue('edits');
    await waitFor(
      async () => {
        maxInFlight = Math.max(maxInFlight, f.sim.stats().inFlight);
        return (await queue.getCompletedCount()) === 12;
      },
      20_000,
      'all completed',
    );
    expect(maxInFlight).toBeGreaterThan(0);
    expect(maxInFlight).toBeLessThanOrEqual(3);
    expect(await queue.getFailedCount()).toBe(0);
  });
});

describe('rate governor', () => {
  it('slows the fleet on 429s without failing jobs or burning attempts', async () => {
    fleet = await startFleet({
      sim: { rateLimitPerSecond: 10, latencyMs: { min: 50, max: 100 } },
      lifecycle: { firstPollDelayMs: 5_000 },
      workloads: { rateLimit: { requestsPerSecond: 40, burst: 5 }, queues: [{ name: 'edits', concurrency: 16 }] },
    });
    const f = fleet;
    await f.producer.enqueueEdits(
      'edits',
      Array.from({ length: 60 }, (_, i) => proEdit(`rl ${i}`)),
    );
    const { completed, failed } = await finished(f, 'edits', 60, 30_000);
    expect(failed.map((job) => job.failedReason)).toEqual([]);
    expect(completed).toHaveLength(60);
    expect(Math.max(...completed.map((job) => job.attemptsMade))).toBe(1);
    expect(f.sim.stats().runsCreated).toBe(60);
    // The governor halved its rate on the first 429s instead of letting every job retry into them.
    expect(f.sim.stats().rateLimited).toBeLessThan(60);
  });

  it('gives a second queue its share of the rate while the first holds a backlog', async () => {
    fleet = await startFleet({
      queues: ['backlog', 'interactive'],
      sim: { latencyMs: { min: 20, max: 40 } },
      workloads: {
        rateLimit: { requestsPerSecond: 40, burst: 4 },
        queues: [
          { name: 'backlog', concurrency: 8, share: 1 },
          { name: 'interactive', concurrency: 8, share: 1 },
        ],
      },
    });
    const f = fleet;
    await f.producer.enqueueEdits(
      'backlog',
      Array.from({ length: 800 }, (_, i) => proEdit(`b ${i}`)),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const started = Date.now();
    const handles = await f.producer.enqueueEdits(
      'interactive',
      Array.from({ length: 20 }, (_, i) => proEdit(`i ${i}`)),
    );
    const waits = await Promise.all(
      handles.map(async (h) => {
        await f.producer.waitForResult('interactive', h.id, { timeoutMs: 20_000 });
        return Date.now() - started;
      }),
    );
    // 20 jobs at half of 40 req/s ≈ 1 s (plus one poll-free callback each); behind the backlog it
    // would be 800 / 40 = 20 s.
    expect(Math.max(...waits)).toBeLessThan(5_000);
    const backlog = await f.producer.queue('backlog').getJobCounts('prioritized', 'waiting');
    expect(backlog.prioritized + backlog.waiting).toBeGreaterThan(300);
  });
});
