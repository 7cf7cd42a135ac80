import { afterEach, describe, expect, it } from 'vitest';
import { type Fleet, nb2Edit, proEdit, startFleet, waitFor } from './support/fleet.ts';

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

describe('spend ledger', () => {
  it('equals the simulator’s billing per queue, model and day, failed runs included at zero', async () => {
    fleet = await startFleet({ queues: ['alpha', 'beta'], sim: { faults: { runFailed: 0.2 } } });
    const f = fleet;
    const mix = (i: number) =>
      i % 3 === 0
        ? proEdit(`p${i}`)
        : nb2Edit({
            num_images: 1 + (i % 4),
            enable_web_search: i % 2 === 0,
            thinking_level: i % 5 === 0 ? 'high' : 'minimal',
          });
    await f.producer.enqueueEdits(
      'alpha',
      Array.from({ length: 40 }, (_, i) => mix(i)),
    );
    await f.producer.enqueueEdits(
      'beta',
      Array.from({ length: 30 }, (_, i) => mix(i + 1)),
    );
    for (const name of ['alpha', 'beta']) {
      const queue = f.producer.queue(name);
      const total = name === 'alpha' ? 40 : 30;
      await waitFor(
        async () => (await queue.getCompletedCount()) + (await queue.getFailedCount()) === total,
        20_000,
        `${name} finished`,
      );
    }
    const billing = f.sim.billing();
    const rows = await f.ledger.rows(['alpha', 'beta']);
    const sum = (predicate: (row: (typeof rows)[number]) => boolean) =>
      rows.filter(predicate).reduce((n, row) => n + row.spendMicroUsd, 0);

    expect(sum(() => true)).toBe(billing.totalMicroUsd);
    expect(sum((r) => r.queue === 'alpha')).toBe(billing.byQueue.alpha);
    expect(sum((r) => r.queue === 'beta')).toBe(billing.byQueue.beta);
    for (const [model, micro] of Object.entries(billing.byModel)) expect(sum((r) => r.model === model)).toBe(micro);
    for (const [day, micro] of Object.entries(billing.byDay)) expect(sum((r) => r.day === day)).toBe(micro);

    const failedRuns = f.sim.runs().filter((run) => run.status_code === 'failed').length;
    expect(failedRuns).toBeGreaterThan(0);
    expect(rows.reduce((n, row) => n + row.failed, 0)).toBe(failedRuns);
    expect(rows.reduce((n, row) => n + row.completed, 0)).toBe(70 - failedRuns);
    expect(await f.producer.queue('alpha').getFailedCount()).toBe(
      f.sim.runs().filter((r) => r.status_code === 'failed' && (r.metadata as { queue: string }).queue === 'alpha')
        .length,
    );
  });
});
