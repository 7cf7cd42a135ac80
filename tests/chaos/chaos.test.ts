import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planChaos } from '../../scripts/chaos/chaos-plan.ts';
import { renderReport } from '../../scripts/chaos/render-report.ts';
import { runChaos } from '../../scripts/chaos/run-chaos.ts';

// The small chaos run of `pnpm test`: the same fleet and checks as `pnpm chaos`, a few hundred jobs,
// every fault kind (simulator faults, worker SIGKILLs, a drain, ingest down past the simulator's
// retries, a Redis restart with AOF, 429 bursts, a signer rotation), shorter outages.

describe('chaos (small run)', () => {
  it('keeps every invariant under every fault kind', { timeout: 150_000 }, async () => {
    const plan = planChaos({ jobs: 300 });
    const logDir = mkdtempSync(join(tmpdir(), 'rfq-chaos-test-'));
    const lines: string[] = [];
    const report = await runChaos({ plan, logDir, log: (line) => lines.push(line) });
    const table = renderReport(report);
    if (!report.ok) console.error(`${table}\n\n${lines.join('\n')}\nlogs: ${logDir}`);
    else rmSync(logDir, { recursive: true, force: true });

    expect(report.invariants.filter((v) => !v.holds)).toEqual([]);
    expect(report).toMatchObject({
      accepted: 300,
      lost: 0,
      settledTwice: 0,
      unresolvedAmbiguous: 0,
      duplicateRuns: 0,
      differenceMicroUsd: 0,
    });
    expect(report.ledgerMicroUsd).toBe(report.simBilledMicroUsd);
    // Every fault kind actually happened: the simulator's faults are stratified (one per 1/rate
    // opportunities), so they did as long as the run gave each kind enough opportunities.
    expect(report.simRequests.get + report.simRequests.search).toBeGreaterThanOrEqual(
      1 / (plan.faults.getServerError ?? 1),
    );
    expect(report.simRequests.create).toBeGreaterThanOrEqual(1 / (plan.faults.createServerError ?? 1));
    for (const kind of [
      'createServerError',
      'getServerError',
      'resetAfterCreate',
      'runFailed',
      'callbackDrop',
      'callbackDuplicate',
      'callbackDelay',
      'callbackOutOfOrder',
    ]) {
      expect(report.faultsInjected[kind], kind).toBeGreaterThan(0);
    }
    expect(report.faultsInjected.createRateLimited + report.faultsInjected.getRateLimited).toBeGreaterThan(0);
    expect(report.processFaults.workersKilled).toBeGreaterThan(0);
    // The scheduled SIGKILL during a worker's start was counted and replaced; no fault event failed.
    expect(report.processFaults.workersDiedStarting).toBeGreaterThanOrEqual(1);
    expect(report.scheduleErrors).toEqual([]);
    expect(report.processFaults.workersDrained).toBe(1);
    expect(report.processFaults.redisRestarts).toBe(1);
    expect(report.callbacks.givenUp).toBeGreaterThan(0);
    expect(report.completedByPoll).toBeGreaterThan(0);
    expect(report.completedByCallback).toBeGreaterThan(0);
  });
});
