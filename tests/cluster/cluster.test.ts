import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failureCode, type WorkloadsConfigInput } from '@runflow-queue/shared';
import { governorKey, inflightKey, queuesKey, queueTag, runQueueKey } from '@runflow-queue/store';
import { type StartedRedisCluster, startRedisCluster } from '@runflow-queue/testkit';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { enqueueMany, expectProbesOnly, FAST_HOLDS, holdsOf, statesOf, waitAllEnded } from '../holds/holds-support.ts';
import {
  type Fleet,
  type FleetOptions,
  nb2Edit,
  proEdit,
  releaseHeldCallbacks,
  startFleet,
  waitFor,
} from '../support/fleet.ts';
import { spawnWorker } from '../support/worker-process.ts';

// The end-to-end flows again, on a real 3-master Redis Cluster. Every key of a queue carries the hash
// tag `{queue}`, so BullMQ's Lua scripts and ours stay in one slot; a key that escaped the tag would
// make a script fail with CROSSSLOT, and the job would not complete.

// Two queues whose hash tags land on different masters, so the fleet really spans the cluster.
const QUEUES = ['edits', 'thumbnails'];

let cluster: StartedRedisCluster;
let fleet: Fleet | undefined;

beforeAll(async () => {
  cluster = await startRedisCluster();
});
afterAll(async () => {
  await cluster?.stop();
});
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

async function start(options: FleetOptions = {}): Promise<Fleet> {
  fleet = await startFleet({ queues: QUEUES, ...options, redisUrl: cluster.url });
  return fleet;
}

/** Every key under the fleet's prefix, read from every master. */
async function allKeys(f: Fleet): Promise<string[]> {
  const keys: string[] = [];
  for (const node of (f.redis as Cluster).nodes('master')) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${f.prefix}:*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  return [...new Set(keys)]; // SCAN may repeat a key while a node rehashes
}

async function expectLedgerEqualsBilling(f: Fleet): Promise<void> {
  expect(await f.ledger.totalMicroUsd(QUEUES)).toBe(f.sim.billing().totalMicroUsd);
  for (const queue of QUEUES) {
    expect(await f.ledger.totalMicroUsd([queue])).toBe(f.sim.billing().byQueue[queue] ?? 0);
  }
}

describe('on a Redis Cluster (3 masters)', () => {
  it('runs on a cluster client whose queues hash to different masters', async () => {
    const f = await start({ workers: false });
    expect(f.redis).toBeInstanceOf(Cluster);
    const owners = new Set<string>();
    for (const queue of QUEUES) {
      const slot = Number(await f.redis.cluster('KEYSLOT', `${queueTag(f.prefix, queue)}:x`));
      const ranges = await f.redis.cluster('SLOTS');
      const owner = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2];
      owners.add(`${owner?.[0]}:${owner?.[1]}`);
    }
    expect(owners.size).toBe(QUEUES.length);
  });

  it('runs both models via callback on two queues and settles exactly what the simulator billed', async () => {
    const f = await start();
    const pro = await f.producer.enqueueEdit('edits', proEdit());
    const nb2 = await f.producer.enqueueEdit(
      'thumbnails',
      nb2Edit({ num_images: 2, enable_web_search: true, output_format: 'webp' }),
    );
    const bulk = await f.producer.enqueueEdits(
      'thumbnails',
      Array.from({ length: 10 }, (_, i) => proEdit(`bulk ${i}`)),
    );
    const proResult = await f.producer.waitForResult('edits', pro.id, { timeoutMs: 15_000 });
    const nb2Result = await f.producer.waitForResult('thumbnails', nb2.id, { timeoutMs: 15_000 });
    for (const handle of bulk) await f.producer.waitForResult('thumbnails', handle.id, { timeoutMs: 15_000 });

    expect(proResult).toMatchObject({ completedBy: 'callback', costMicroUsd: 150_000 });
    expect(proResult.outputs).toHaveLength(1);
    expect(nb2Result).toMatchObject({ completedBy: 'callback', costMicroUsd: 190_000 });
    expect(nb2Result.outputs).toHaveLength(2);
    expect(f.sim.stats().runsCreated).toBe(12);
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(150_000);
    expect(await f.ledger.totalMicroUsd(['thumbnails'])).toBe(190_000 + 10 * 150_000);
    await expectLedgerEqualsBilling(f);
    for (const queue of QUEUES) expect(await f.producer.queue(queue).getFailedCount()).toBe(0);

    // Every key lives under its queue's hash tag, or is one of the documented shared entries: the rate
    // governor, in-flight caps and the account-wide spend keys (each under a tag of its own) and two
    // single-key globals.
    const keys = await allKeys(f);
    expect(keys.length).toBeGreaterThan(0);
    const allowed = [
      ...QUEUES.map((queue) => `${queueTag(f.prefix, queue)}:`),
      governorKey(f.prefix, ''),
      inflightKey(f.prefix, ''),
      `${f.prefix}:{spend}:`,
      runQueueKey(f.prefix, ''),
      queuesKey(f.prefix),
    ];
    expect(keys.filter((key) => !allowed.some((start) => key.startsWith(start)))).toEqual([]);
    // Settle-once is account-wide: one record per run, in the one {spend} slot, whatever the queue.
    const spendSlots = new Set(
      await Promise.all(keys.filter((key) => key.includes(':{spend}:')).map((key) => f.redis.cluster('KEYSLOT', key))),
    );
    expect(spendSlots.size).toBe(1);
    for (const run of f.sim.runs()) {
      expect(await f.ledger.record(run.id)).toMatchObject({ queue: (run.metadata as { queue: string }).queue });
    }
  });

  it('completes when the callback lands after the worker parked (ingest promotes)', async () => {
    const f = await start({ sim: { latencyMs: { min: 0, max: 0 } } });
    f.sim.holdCallbacks(true);
    const handle = await f.producer.enqueueEdit('thumbnails', proEdit());
    const queue = f.producer.queue('thumbnails');
    await waitFor(
      async () =>
        (await queue.getJob(handle.id))?.data.step === 'submitted' &&
        (await queue.getJobState(handle.id)) === 'delayed',
      5_000,
      'job parked',
    );
    await releaseHeldCallbacks(f);
    const result = await f.producer.waitForResult('thumbnails', handle.id, { timeoutMs: 8_000 });
    expect(result.completedBy).toBe('callback');
    await expectLedgerEqualsBilling(f);
  });

  it('completes a job whose callback was lost, by polling', async () => {
    const f = await start({ sim: { faults: { callbackDrop: 1 } }, lifecycle: { firstPollDelayMs: 300 } });
    const handle = await f.producer.enqueueEdit('edits', nb2Edit());
    const result = await f.producer.waitForResult('edits', handle.id, { timeoutMs: 10_000 });
    expect(result.completedBy).toBe('poll');
    expect(result.costMicroUsd).toBe(80_000);
    await expectLedgerEqualsBilling(f);
  });

  it('acknowledges a duplicate callback and settles once', async () => {
    const f = await start({ sim: { faults: { callbackDuplicate: 1 } } });
    const handle = await f.producer.enqueueEdit('thumbnails', proEdit());
    await f.producer.waitForResult('thumbnails', handle.id, { timeoutMs: 10_000 });
    await f.sim.whenCallbacksSettled();
    expect(await f.inbox.counters('thumbnails')).toMatchObject({ received: 1, duplicate: 1 });
    const rows = await f.ledger.rows(['thumbnails']);
    expect(rows.reduce((n, row) => n + row.completed, 0)).toBe(1);
    expect(await f.ledger.totalMicroUsd(['thumbnails'])).toBe(150_000);
    await expectLedgerEqualsBilling(f);
  });

  it('makes one job and one run for the same idempotency key', async () => {
    const f = await start();
    const request = { ...proEdit(), idempotencyKey: 'order-42' };
    const first = await f.producer.enqueueEdit('edits', request);
    const second = await f.producer.enqueueEdit('edits', request);
    expect(second.id).toBe(first.id);
    await f.producer.waitForResult('edits', first.id, { timeoutMs: 10_000 });
    const third = await f.producer.enqueueEdit('edits', request);
    expect(third).toMatchObject({ id: first.id, deduplicated: true });
    expect(f.sim.stats().runsCreated).toBe(1);
    expect(await f.producer.queue('edits').getJobCounts('completed')).toEqual({ completed: 1 });
    await expectLedgerEqualsBilling(f);
  });

  // ── Budgets, the rate governor, in-flight caps and fairness on Redis Cluster ───────────────────
  // The budget windows and reservations live under their queue's tag; the governor (one per API key,
  // shared by all queues) and the in-flight caps (one per model, across queues) under tags of their
  // own — so each script touches one slot, wherever the queues' slots are.

  it('admits exactly six $0.15 runs on a $1.00 budget with four worker processes racing', async () => {
    const f = await start({ workers: false, queues: ['budgeted'] });
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
      const queue = f.producer.queue('budgeted');
      await waitFor(
        async () => (await queue.getCompletedCount()) + (await queue.getFailedCount()) >= 24,
        30_000,
        '24 finished',
      );
      const failed = await queue.getFailed();
      expect(await queue.getCompletedCount()).toBe(6);
      expect(new Set(failed.map((job) => failureCode(job.failedReason)))).toEqual(new Set(['BUDGET_EXCEEDED']));
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
    }
    expect(f.sim.stats().runsCreated).toBe(6);
    expect(f.sim.billing().totalMicroUsd).toBe(900_000);
    expect(await f.ledger.totalMicroUsd(['budgeted'])).toBe(900_000);
  });

  it('holds the fleet-wide rate limit with two worker processes serving queues on different masters', async () => {
    // Two processes beside the fleet's own workers, all on one governor: 20 req/s, burst 5. The
    // simulator would answer 429 above 30/s; every Runflow request (create and poll) is timed there.
    const workloads = {
      rateLimit: { requestsPerSecond: 20, burst: 5 },
      queues: QUEUES.map((name) => ({ name, concurrency: 8 })),
    };
    const f = await start({ sim: { rateLimitPerSecond: 30, latencyMs: { min: 20, max: 40 } }, workloads });
    const file = writeWorkloads(workloads);
    const workers = Array.from({ length: 2 }, () => spawnWorker(f, { WORKLOADS_FILE: file }));
    try {
      await Promise.all(workers.map((worker) => worker.waitFor('"msg":"worker started"')));
      const started = Date.now();
      for (const queue of QUEUES) {
        await f.producer.enqueueEdits(
          queue,
          Array.from({ length: 50 }, (_, i) => nb2Edit({ prompt: `${queue} ${i}` })),
        );
      }
      for (const queue of QUEUES) {
        const q = f.producer.queue(queue);
        await waitFor(async () => (await q.getCompletedCount()) === 50, 30_000, `${queue}: 50 completed`);
      }
      const times = f.sim.requestTimes().filter((t) => t >= started);
      expect(times.length).toBeGreaterThanOrEqual(100);
      // The busiest 1 s window from the first second on: the rate plus the burst (a little slack for the
      // clocks of 3 processes). The very first window can hold more by the receiver's clock — the first
      // burst waits for its connections while the requests after it do not (see BENCHMARKS.md, governor).
      const steady = times.filter((t) => t >= times[0] + 1_000);
      expect(maxInWindow(steady, 1_000)).toBeLessThanOrEqual(20 + 5 + 2);
      expect(f.sim.stats().rateLimited).toBe(0);
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
    }
    await expectLedgerEqualsBilling(f);
  });

  it('keeps at most the cap of runs in flight for a model across queues on different masters', async () => {
    const f = await start({
      sim: { latencyMs: { min: 400, max: 400 } },
      workloads: {
        models: { 'google/nano-banana-pro/edit': { maxInFlight: 3 } },
        queues: QUEUES.map((name) => ({ name, concurrency: 8 })),
      },
    });
    for (const queue of QUEUES) {
      await f.producer.enqueueEdits(
        queue,
        Array.from({ length: 6 }, (_, i) => proEdit(`cap ${queue} ${i}`)),
      );
    }
    let maxInFlight = 0;
    await waitFor(
      async () => {
        maxInFlight = Math.max(maxInFlight, f.sim.stats().inFlight);
        let completed = 0;
        for (const queue of QUEUES) completed += await f.producer.queue(queue).getCompletedCount();
        return completed === 12;
      },
      20_000,
      'all completed',
    );
    expect(maxInFlight).toBeGreaterThan(0);
    expect(maxInFlight).toBeLessThanOrEqual(3);
    await expectLedgerEqualsBilling(f);
  });

  it('gives a second queue its share of the rate while the first holds a backlog', async () => {
    const f = await start({
      sim: { latencyMs: { min: 20, max: 40 } },
      workloads: {
        rateLimit: { requestsPerSecond: 40, burst: 4 },
        queues: QUEUES.map((name) => ({ name, concurrency: 8, share: 1 })),
      },
    });
    await f.producer.enqueueEdits(
      'edits',
      Array.from({ length: 800 }, (_, i) => proEdit(`b ${i}`)),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const started = Date.now();
    const handles = await f.producer.enqueueEdits(
      'thumbnails',
      Array.from({ length: 20 }, (_, i) => proEdit(`i ${i}`)),
    );
    const waits = await Promise.all(
      handles.map(async (h) => {
        await f.producer.waitForResult('thumbnails', h.id, { timeoutMs: 20_000 });
        return Date.now() - started;
      }),
    );
    // 20 jobs at half of 40 req/s ≈ 1 s; behind the backlog it would be 800 / 40 = 20 s.
    expect(Math.max(...waits)).toBeLessThan(5_000);
    const backlog = await f.producer.queue('edits').getJobCounts('prioritized', 'waiting');
    expect(backlog.prioritized + backlog.waiting).toBeGreaterThan(300);
  });

  // The holds of issue 11: one `{holds}` hash per account (its own slot), read by workers whose queues
  // sit on other masters.
  it('an outage opens the breaker for queues on every master; they resume together, nothing fails', async () => {
    const f = await start({ holds: FAST_HOLDS, sim: { latencyMs: { min: 100, max: 200 } } });
    const holds = holdsOf(f);
    await f.sim.setOutage('unavailable');
    const ids = Object.fromEntries(
      await Promise.all(QUEUES.map(async (queue) => [queue, await enqueueMany(f.producer, queue, 8, queue)] as const)),
    );
    await waitFor(async () => (await holds.snapshot()).breaker.open, 10_000, 'breaker open');
    // Requests already on their way when it opened (each worker reads the holds every 100 ms) end first.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const from = Date.now();
    const before = f.sim.requestTimes().length;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    // Both queues' workers hold: Runflow sees only the probes, one at a time, at most one per 500 ms.
    const seen = f.sim.requestTimes().slice(before);
    expectProbesOnly(seen, from);
    await f.sim.setOutage('off');
    for (const queue of QUEUES) expect(await waitAllEnded(f, queue, ids[queue], 30_000)).toEqual([]);
    expect((await holds.snapshot()).breaker).toMatchObject({ open: false, opens: 1 });
    expect(f.sim.runs()).toHaveLength(16);
    await expectLedgerEqualsBilling(f);
  });

  it('a credit hold and an operator pause hold queues on different masters until lifted', async () => {
    const f = await start({ holds: FAST_HOLDS, sim: { latencyMs: { min: 100, max: 200 } } });
    const holds = holdsOf(f);
    f.sim.setBalance(0);
    const starved = await enqueueMany(f.producer, 'edits', 4, 'no credit');
    await waitFor(async () => (await holds.snapshot()).credit.held, 10_000, 'credit hold');
    // The hold is the account's: the other queue (another master) waits too.
    const other = await enqueueMany(f.producer, 'thumbnails', 3, 'other master');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(f.sim.runs()).toHaveLength(0);
    await holds.pause('thumbnails', 'checking prompts', 'test');
    f.sim.topUp(10_000_000);
    expect(await waitAllEnded(f, 'edits', starved, 20_000)).toEqual([]);
    // The credit is back, but the paused queue still holds its submits.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await statesOf(f, 'thumbnails', other)).completed ?? 0).toBe(0);
    expect(f.sim.runs()).toHaveLength(4);
    await holds.resume('thumbnails');
    expect(await waitAllEnded(f, 'thumbnails', other, 20_000)).toEqual([]);
    expect(f.sim.runs()).toHaveLength(7);
    await expectLedgerEqualsBilling(f);
  });
});

function writeWorkloads(config: WorkloadsConfigInput): string {
  const path = join(mkdtempSync(join(tmpdir(), 'rfq-workloads-')), 'workloads.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** The most timestamps in any window of `windowMs` (sorted sweep). */
function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  let from = 0;
  for (let to = 0; to < sorted.length; to += 1) {
    while (sorted[to] - sorted[from] >= windowMs) from += 1;
    max = Math.max(max, to - from + 1);
  }
  return max;
}
