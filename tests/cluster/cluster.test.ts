import { governorKey, inflightKey, queuesKey, queueTag, runQueueKey } from '@runflow-queue/store';
import { type StartedRedisCluster, startRedisCluster } from '@runflow-queue/testkit';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Fleet,
  type FleetOptions,
  nb2Edit,
  proEdit,
  releaseHeldCallbacks,
  startFleet,
  waitFor,
} from '../support/fleet.ts';

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

  // ── Budgets and the rate governor on Redis Cluster ──────────────────────────────────────────────
  // Placeholder for the lead: the budget (reserve / refuse / BUDGET_EXCEEDED) and fleet-wide rate
  // governor cases go here, using `start()` so they run against this cluster. The governor is one per
  // API key and shared by all queues, so its keys must sit under a hash tag of their own.
});
