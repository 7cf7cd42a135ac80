import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSpendScenario } from '../../scripts/chaos/scenario-spend.ts';
import { renderSpendReport } from '../../scripts/chaos/spend-verdict.ts';

// The small run of `pnpm chaos --scenario spend`: the simulator billing its own way, half callbacks
// and half polls, one Redis SIGKILL; the ledger must end equal to Runflow's bill.

describe('chaos: spend follows Runflow (small run)', () => {
  it('ends with the ledger equal to the bill, every run confirmed, none settled twice', {
    timeout: 150_000,
  }, async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'rfq-chaos-spend-test-'));
    const lines: string[] = [];
    const report = await runSpendScenario({ jobs: 160, logDir, log: (line) => lines.push(line) });
    if (!report.ok) console.error(`${renderSpendReport(report)}\n\n${lines.join('\n')}\nlogs: ${logDir}`);
    else rmSync(logDir, { recursive: true, force: true });

    expect(report.checks.filter((check) => !check.holds)).toEqual([]);
    expect(report.ledgerMicroUsd).toBe(report.simBilledMicroUsd);
    expect(report).toMatchObject({ unconfirmedRuns: 0, settledTwice: 0, billedUnsettled: 0, costMismatches: 0 });
    expect(report.exportTotalMicroUsd).toBe(report.ledgerMicroUsd);
    // The simulator billed its own way: the callback path's estimates needed adjusting.
    expect(report.adjustmentsMicroUsd).not.toBe(0);
    expect(report.callbackShare).toBeGreaterThan(0.25);
    expect(report.pollShare).toBeGreaterThan(0.25);
    expect(report.spendTable).toContain('adjustments');
    expect(report.exportHead[0]).toMatch(/^run_id,job_id,queue,model,cost_center/);
  });
});
