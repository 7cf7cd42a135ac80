import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReport } from '../../scripts/chaos/render-report.ts';
import { runChaos } from '../../scripts/chaos/run-chaos.ts';
import { troubleScenario } from '../../scripts/chaos/scenario-trouble.ts';

// The short trouble run of `pnpm test`: today's faults plus a Runflow outage (503, then connection
// refused), credit running out and topped up, Redis at maxmemory and a capped model — seconds instead
// of minutes.
// `pnpm chaos --scenario trouble --jobs 3000` is the full-length one.

describe('chaos: trouble scenario (short run)', () => {
  it('holds through an outage, spent credit and Redis refusing writes: nothing lost, paid once, only RUN_FAILED', {
    timeout: 240_000,
  }, async () => {
    const scenario = troubleScenario({ jobs: 200, outageMs: 16_000, creditHoldMs: 6_000, redisOomMs: 4_000 });
    const logDir = mkdtempSync(join(tmpdir(), 'rfq-chaos-trouble-'));
    const lines: string[] = [];
    const report = await runChaos({ plan: scenario.plan, logDir, log: (line) => lines.push(line), scenario });
    const table = renderReport(report);
    if (!report.ok) console.error(`${table}\n\n${lines.join('\n')}\nlogs: ${logDir}`);
    else rmSync(logDir, { recursive: true, force: true });

    expect(report.invariants.filter((v) => !v.holds)).toEqual([]);
    expect(report).toMatchObject({ accepted: 200, lost: 0, duplicateRuns: 0, settledTwice: 0, differenceMicroUsd: 0 });
    expect(report.ledgerMicroUsd).toBe(report.simBilledMicroUsd);
    expect(
      Object.keys(report.failedByCode).filter((code) => code !== 'RUN_FAILED' && code !== 'INVALID_JOB_DATA'),
    ).toEqual([]);
    const trouble = report as typeof report & Record<string, number | null>;
    expect(trouble.outageMs).toBeGreaterThanOrEqual(16_000);
    expect(trouble.breakerOpenedAfterMs).not.toBeNull();
    expect(trouble.insufficientCreditAnswers).toBeGreaterThan(0);
    expect(trouble.redisOomMs).toBeGreaterThanOrEqual(4_000);
    // A model's concurrency cap (429s that follow the runs in flight) does not collapse the rate.
    expect(trouble.cappedModelMs).toBeGreaterThanOrEqual(6_000);
    expect(trouble.lowestFactorWhileCapped).toBeGreaterThanOrEqual(0.25);
    expect(report.processFaults.workersDiedStarting).toBeGreaterThanOrEqual(1);
  });
});
