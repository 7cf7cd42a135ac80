import { afterEach, describe, expect, it } from 'vitest';
import { type Fleet, nb2Edit, proEdit, startFleet, waitFor } from '../support/fleet.ts';
import { runCli } from '../support/run-cli.ts';

// `runflow-queue spend`, `spend export` and `spend reconcile` as an operator runs them, against a
// fleet whose Runflow bills without surcharges.

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

async function startSettled(): Promise<Fleet> {
  fleet = await startFleet({
    sim: { pricing: { surcharges: 'none' }, balanceMicroUsd: 1_000 * 1_000_000 },
    reconciler: { intervalMs: 100, share: 0.05, healLagMs: 60_000, healLookbackMs: 3_600_000, balanceEveryMs: 100 },
  });
  const f = fleet;
  const handles = await f.producer.enqueueEdits('edits', [
    proEdit('a'),
    nb2Edit({ thinking_level: 'high', num_images: 2 }),
    nb2Edit({ enable_web_search: true }),
    { ...proEdit('b'), tags: { costCenter: 'growth' } },
  ]);
  for (const h of handles) await f.producer.waitForResult('edits', h.id, { timeoutMs: 15_000 });
  await waitFor(async () => (await f.ledger.unconfirmedSummary()).count === 0, 10_000, 'reconciled');
  return f;
}

const today = () => new Date().toISOString().slice(0, 10);

describe('runflow-queue spend', () => {
  it('prints estimated, confirmed and adjustments, and exports records that add up to the ledger', async () => {
    const f = await startSettled();
    const ledger = await f.ledger.totalMicroUsd(['edits']);
    expect(ledger).toBe(f.sim.billing().totalMicroUsd);

    const table = await runCli(f, ['spend']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/estimated\s+confirmed\s+adjustments\s+unconfirmed\s+spend/);
    expect(table.stdout).toContain('every settled run is confirmed');
    // Our table priced web search and thinking (+17,000 µUSD/image over three images); Runflow did not.
    expect(table.stdout).toContain('-$0.019000');

    const csv = await runCli(f, ['spend', 'export', '--from', today(), '--format', 'csv']);
    expect(csv.code).toBe(0);
    const [header, ...lines] = csv.stdout.trimEnd().split('\n');
    expect(header.split(',')).toContain('adjustment_micro_usd');
    expect(lines).toHaveLength(4);
    const booked = header.split(',').indexOf('booked_micro_usd');
    expect(lines.reduce((n, line) => n + Number(line.split(',')[booked]), 0)).toBe(ledger);
    expect(csv.stderr).toMatch(/runs written/);
    expect(csv.stderr.trimEnd().endsWith('yes')).toBe(true);

    const jsonl = await runCli(f, ['spend', 'export', '--from', today(), '--to', today(), '--format', 'jsonl']);
    const records = jsonl.stdout
      .trimEnd()
      .split('\n')
      .map(
        (line) => JSON.parse(line) as { booked_micro_usd: number; state: string; path: string; cost_center: string },
      );
    expect(records.reduce((n, r) => n + r.booked_micro_usd, 0)).toBe(ledger);
    expect(records.every((r) => r.state === 'confirmed' && r.path === 'callback')).toBe(true);
    expect(records.map((r) => r.cost_center).sort()).toEqual(['-', '-', '-', 'growth']);

    const bad = await runCli(f, ['spend', 'export', '--from', '12/01/2026']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--from "12/01/2026": a UTC day is needed, e.g. --from 2026-12-01');
  });

  it('reconcile: the balance change equals the ledger within a cent; an unbooked charge is drift', async () => {
    const f = await startSettled();
    const env = { RUNFLOW_BASE_URL: f.sim.url, RUNFLOW_API_KEY: f.sim.apiKey };
    // The reconciler read the balance before the first run billed? Not necessarily: compare from a
    // reading taken now, after a little more spend.
    const since = new Date().toISOString();
    await waitFor(
      async () => (await runCli(f, ['spend', 'reconcile', '--since', since], env)).stdout.includes('verdict'),
      5_000,
      'a reading after since',
    );
    const more = await f.producer.enqueueEdit('edits', proEdit('c'));
    await f.producer.waitForResult('edits', more.id, { timeoutMs: 15_000 });
    await waitFor(async () => (await f.ledger.unconfirmedSummary()).count === 0, 10_000, 'reconciled');
    const ok = await runCli(f, ['spend', 'reconcile', '--since', since, '--json'], env);
    const report = JSON.parse(ok.stdout) as {
      runflowSpentMicroUsd: number;
      differenceMicroUsd: number;
      withinRounding: boolean;
    };
    expect(report.withinRounding, ok.stdout).toBe(true);
    expect(ok.code).toBe(0);
    expect(Math.abs(report.differenceMicroUsd)).toBeLessThan(10_000);

    // Runflow charged 5 cents the ledger never booked: drift, exit 1.
    f.sim.setBalance((f.sim.balance() ?? 0) - 50_000);
    const drift = await runCli(f, ['spend', 'reconcile', '--since', since], env);
    expect(drift.code).toBe(1);
    expect(drift.stdout).toMatch(/difference \(Runflow − ledger\)\s+\$0\.05\d{4} \(5\d{4} µUSD\)/);
    expect(drift.stdout).toContain('DRIFT');
  });
});
