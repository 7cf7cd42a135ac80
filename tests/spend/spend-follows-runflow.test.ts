import type { SpendRecord } from '@runflow-queue/store';
import { afterEach, describe, expect, it } from 'vitest';
import { type Fleet, type FleetOptions, nb2Edit, proEdit, startFleet, waitFor } from '../support/fleet.ts';

// The ledger follows Runflow's own bill, not our price table: the simulator bills its own way (no
// surcharges, a 2K price of its own), half the jobs finish by callback (no cost: estimated, then
// confirmed by the reconciler) and half by poll (Runflow's cost: confirmed at once).

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

const RECONCILER: FleetOptions['reconciler'] = {
  intervalMs: 150,
  share: 0.05,
  healLagMs: 60_000,
  healLookbackMs: 3_600_000,
  balanceEveryMs: 0,
};

async function finished(f: Fleet, queue: string, total: number): Promise<void> {
  const q = f.producer.queue(queue);
  await waitFor(
    async () => (await q.getCompletedCount()) + (await q.getFailedCount()) === total,
    30_000,
    `${total} jobs finished`,
  );
}

async function allRecords(f: Fleet): Promise<SpendRecord[]> {
  const records: SpendRecord[] = [];
  for (const run of f.sim.runs()) {
    const record = await f.ledger.record(run.id);
    if (record) records.push(record);
  }
  return records;
}

describe('spend follows Runflow', () => {
  it('books estimates from callbacks, confirms them from Runflow’s record, and ends equal to its bill', async () => {
    fleet = await startFleet({
      sim: {
        faults: { callbackDrop: 0.5 },
        pricing: { surcharges: 'none', tierPriceMicroUsd: { 'google/nano-banana-2/edit': { '2K': 120_000 } } },
      },
      lifecycle: { firstPollDelayMs: 300 },
      reconciler: RECONCILER,
    });
    const f = fleet;
    const mix = (i: number) =>
      i % 4 === 0
        ? proEdit(`p${i}`)
        : nb2Edit({
            num_images: 1 + (i % 2),
            thinking_level: 'high',
            ...(i % 3 === 0 ? { enable_web_search: true } : {}),
            ...(i % 5 === 0 ? { resolution: '2K' } : {}),
          });
    await f.producer.enqueueEdits(
      'edits',
      Array.from({ length: 40 }, (_, i) => mix(i)),
    );
    await finished(f, 'edits', 40);
    await waitFor(async () => (await f.ledger.unconfirmedSummary()).count === 0, 20_000, 'every run confirmed');

    const billing = f.sim.billing();
    const rows = await f.ledger.rows(['edits']);
    const total = (column: 'spendMicroUsd' | 'estimatedMicroUsd' | 'confirmedMicroUsd' | 'adjustmentsMicroUsd') =>
      rows.reduce((n, row) => n + row[column], 0);
    expect(total('spendMicroUsd')).toBe(billing.totalMicroUsd);
    expect(total('confirmedMicroUsd')).toBe(billing.totalMicroUsd);
    expect(rows.reduce((n, row) => n + row.unconfirmedRuns, 0)).toBe(0);

    const records = await allRecords(f);
    // Our table charged surcharges Runflow does not bill, and under-priced its 2K tier: the callback
    // path's estimates were off, and the ledger's adjustments are exactly the per-run differences.
    expect(total('adjustmentsMicroUsd')).not.toBe(0);
    expect(total('adjustmentsMicroUsd')).toBe(records.reduce((n, r) => n + r.adjustmentMicroUsd, 0));
    expect(records.some((r) => r.adjustmentMicroUsd < 0)).toBe(true);
    expect(records.some((r) => r.adjustmentMicroUsd > 0)).toBe(true);
    const byCallback = records.filter((r) => r.path === 'callback');
    const byPoll = records.filter((r) => r.path === 'poll');
    expect(byCallback.length).toBeGreaterThan(5);
    expect(byPoll.length).toBeGreaterThan(5);
    // Poll: Runflow's cost was on the record, confirmed at once, no adjustment.
    for (const record of byPoll) expect(record).toMatchObject({ state: 'confirmed', adjustmentMicroUsd: 0 });
    // Callback: the estimate, then Runflow's cost; the difference is the adjustment.
    for (const record of byCallback) {
      expect(record.state).toBe('confirmed');
      expect(record.adjustmentMicroUsd).toBe((record.confirmedMicroUsd ?? 0) - record.estimatedMicroUsd);
    }
    // Per run: what the ledger holds for it is what Runflow billed for it.
    for (const entry of billing.entries) {
      const record = records.find((r) => r.runId === entry.runId);
      expect(record?.confirmedMicroUsd).toBe(entry.costMicroUsd);
    }
  });

  it('where Runflow records no cost for a model, the price table stands and the record says so', async () => {
    fleet = await startFleet({
      sim: { pricing: { noCostModels: ['google/nano-banana-pro/edit'] } },
      reconciler: RECONCILER,
    });
    const f = fleet;
    const handle = await f.producer.enqueueEdit('edits', proEdit());
    const result = await f.producer.waitForResult('edits', handle.id, { timeoutMs: 15_000 });
    await waitFor(async () => (await f.ledger.unconfirmedSummary()).count === 0, 10_000, 'reconciled');
    expect(await f.ledger.record(result.runId)).toMatchObject({
      state: 'table',
      estimatedMicroUsd: 150_000,
      confirmedMicroUsd: null,
      adjustmentMicroUsd: 0,
    });
    const [row] = await f.ledger.rows(['edits']);
    expect(row).toMatchObject({ spendMicroUsd: 150_000, tableRuns: 1, unconfirmedRuns: 0, confirmedMicroUsd: 0 });
    expect(f.sim.billing().totalMicroUsd).toBe(150_000);
  });
});
