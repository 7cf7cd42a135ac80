import { parseWorkloads } from '@runflow-queue/runtime';
import { collectStats, renderStats } from '@runflow-queue/stats';
import { afterEach, describe, expect, it } from 'vitest';
import { type Fleet, nb2Edit, proEdit, startFleet, waitFor } from './support/fleet.ts';

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

describe('stats', () => {
  it('reports counts, throughput, spend against budget and callback/poll split from the live state', async () => {
    const workloads = {
      queues: [{ name: 'catalog', budget: { dailyUsd: 5, policy: 'fail' as const } }, { name: 'thumbs' }],
    };
    fleet = await startFleet({ queues: ['catalog', 'thumbs'], workloads, sim: { faults: { runFailed: 0.25 } } });
    const f = fleet;
    await f.producer.enqueueEdits(
      'catalog',
      Array.from({ length: 12 }, (_, i) => proEdit(`c${i}`)),
    );
    await f.producer.enqueueEdits(
      'thumbs',
      Array.from({ length: 8 }, () => nb2Edit({ num_images: 2 })),
    );
    for (const [name, total] of [
      ['catalog', 12],
      ['thumbs', 8],
    ] as const) {
      const q = f.producer.queue(name);
      await waitFor(async () => (await q.getCompletedCount()) + (await q.getFailedCount()) === total, 15_000, name);
    }
    const stats = await collectStats(f.redis, { prefix: f.prefix, workloads: parseWorkloads(workloads) });
    const catalog = stats.queues.find((q) => q.queue === 'catalog');
    const thumbs = stats.queues.find((q) => q.queue === 'thumbs');
    if (!catalog || !thumbs) throw new Error('missing queues');

    const ledgerCatalog = await f.ledger.totalMicroUsd(['catalog']);
    expect(catalog.spend.todayMicroUsd).toBe(ledgerCatalog);
    expect(catalog.counts.completed + catalog.counts.failed).toBe(12);
    expect(sum(catalog.completedPerMinute) + sum(catalog.failedPerMinute)).toBe(12);
    expect(catalog.recent.failuresByCode.RUN_FAILED ?? 0).toBe(catalog.counts.failed);
    expect(catalog.completions.byCallback + catalog.completions.byPoll).toBe(12);
    expect(catalog.budgets).toEqual([
      {
        policy: 'fail',
        window: 'day',
        capMicroUsd: 5_000_000,
        spentMicroUsd: ledgerCatalog,
        reservedMicroUsd: 0,
        remainingMicroUsd: 5_000_000 - ledgerCatalog,
      },
    ]);
    expect(thumbs.budgets).toEqual([]);
    expect(thumbs.spend.byModelToday['google/nano-banana-2/edit']).toBe(await f.ledger.totalMicroUsd(['thumbs']));
    expect(catalog.recent.p95RunMs).toBeGreaterThanOrEqual(catalog.recent.p50RunMs);

    const text = renderStats(stats);
    expect(text).toContain('catalog');
    expect(text).toContain('$5.000000');
  });
});

function sum(values: readonly number[]) {
  return values.reduce((a, b) => a + b, 0);
}
