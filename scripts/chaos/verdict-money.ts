import type { SimRun } from '@runflow-queue/runflow-sim';
import type { ChaosPlan } from './chaos-plan.ts';
import type { ChaosReport, InvariantVerdict } from './chaos-report.ts';
import type { ChaosFacts, JobFact, SettleMarker } from './collect-facts.ts';
import { isFinished, type JobOutcomes, jobKey } from './job-outcomes.ts';

// Invariants 2 (pay once) and 3 (exact spend): every run the simulator created, grouped by the job
// its metadata names, against the settle markers, the ledger and the simulator's own billing.

export interface MoneyVerdicts {
  payOnce: InvariantVerdict;
  exactSpend: InvariantVerdict;
  numbers: Pick<
    ChaosReport,
    | 'duplicateRuns'
    | 'ambiguousSubmits'
    | 'ambiguousResolution'
    | 'unresolvedAmbiguous'
    | 'settledRuns'
    | 'settledTwice'
    | 'wasteRuns'
    | 'wasteMicroUsd'
    | 'billedUnsettled'
    | 'costMismatches'
    | 'ledgerMicroUsd'
    | 'simBilledMicroUsd'
    | 'differenceMicroUsd'
    | 'ledgerCellsDiffering'
  >;
}

export function checkMoney(plan: ChaosPlan, facts: ChaosFacts, outcomes: JobOutcomes): MoneyVerdicts {
  const runsByJob = new Map<string, SimRun[]>();
  const foreignRuns: SimRun[] = [];
  for (const run of facts.runs) {
    const meta = run.metadata as { queue?: unknown; jobId?: unknown } | null;
    if (typeof meta?.queue !== 'string' || typeof meta.jobId !== 'string') {
      foreignRuns.push(run);
      continue;
    }
    const k = jobKey(meta.queue, meta.jobId);
    runsByJob.set(k, [...(runsByJob.get(k) ?? []), run]);
  }
  const finalRun = (job: JobFact | undefined) => (isFinished(job) ? job?.data.runId : undefined);
  const markersByRun = new Map<string, SettleMarker[]>();
  for (const marker of facts.markers)
    markersByRun.set(marker.runId, [...(markersByRun.get(marker.runId) ?? []), marker]);

  // 2. Pay once.
  let duplicateRuns = 0;
  let duplicatesWithoutAmbiguity = 0;
  let unresolvedAmbiguous = 0;
  const resolution = { adoptedByCallback: 0, adoptedByLookup: 0, replayedByIdempotencyKey: 0, resubmittedNewRun: 0 };
  for (const [k, runs] of runsByJob) {
    const job = outcomes.byKey.get(k);
    const ambiguous =
      runs.some((run) => run.unanswered > 0) ||
      job?.data.ambiguousSince !== undefined ||
      (job?.data.resubmits ?? 0) > 0;
    duplicateRuns += runs.length - 1;
    if (runs.length > 1 && !ambiguous) duplicatesWithoutAmbiguity += runs.length - 1;
    if (ambiguous) {
      if (runs.length > 1) resolution.resubmittedNewRun += 1;
      else if ((job?.data.resubmits ?? 0) > 0 || runs[0].replays > 0) resolution.replayedByIdempotencyKey += 1;
      else if (runs[0].foundBySearch > 0) resolution.adoptedByLookup += 1;
      else resolution.adoptedByCallback += 1;
    }
    // A run no job ended with must be settled as waste once it billed (an unbilled one costs nothing).
    const kept = finalRun(job);
    for (const run of runs) {
      if (run.id !== kept && run.billed && !markersByRun.has(run.id)) unresolvedAmbiguous += 1;
    }
  }
  unresolvedAmbiguous += facts.jobs.filter((job) => !isFinished(job) && job.data.step === 'submitting').length;

  // 3. Exact spend: per run, per ledger cell, in total.
  const billedById = new Map(facts.billing.entries.map((entry) => [entry.runId, entry]));
  let billedUnsettled = 0;
  let costMismatches = 0;
  for (const entry of facts.billing.entries) {
    const markers = markersByRun.get(entry.runId);
    if (!markers) billedUnsettled += 1;
    else if (markers.some((m) => m.costMicroUsd !== entry.costMicroUsd)) costMismatches += 1;
  }
  for (const marker of facts.markers) {
    if (!billedById.has(marker.runId) && marker.costMicroUsd !== 0) costMismatches += 1;
  }
  const settlements = facts.ledgerRows.reduce((n, row) => n + row.completed + row.failed + row.wasteRuns, 0);
  const runsSettledInTwoQueues = [...markersByRun.values()].filter((markers) => markers.length > 1).length;
  const resultRunIds = outcomes.completed
    .map((job) => job.result?.runId)
    .filter((id): id is string => id !== undefined);
  const runsClaimedTwice = resultRunIds.length - new Set(resultRunIds).size;
  const settledTwice = Math.max(0, settlements - facts.markers.length) + runsSettledInTwoQueues + runsClaimedTwice;

  const ledgerMicroUsd = facts.ledgerRows.reduce((n, row) => n + row.spendMicroUsd, 0);
  const cells = new Map<string, number>();
  for (const row of facts.ledgerRows) {
    const cell = `${row.queue}|${row.model}|${row.day}`;
    cells.set(cell, (cells.get(cell) ?? 0) + row.spendMicroUsd);
  }
  for (const entry of facts.billing.entries) {
    const cell = `${String(entry.metadata?.queue)}|${entry.model}|${entry.day}`;
    cells.set(cell, (cells.get(cell) ?? 0) - entry.costMicroUsd);
  }
  const ledgerCellsDiffering = [...cells.values()].filter((diff) => diff !== 0).length;
  const differenceMicroUsd = ledgerMicroUsd - facts.billing.totalMicroUsd;

  return {
    payOnce: {
      id: 2,
      name: 'pay once',
      holds:
        (plan.idempotency === 'honour' ? duplicateRuns === 0 : duplicatesWithoutAmbiguity === 0) &&
        unresolvedAmbiguous === 0 &&
        billedUnsettled === 0 &&
        foreignRuns.length === 0,
      detail: `${facts.runs.length} runs for ${runsByJob.size} jobs; ${duplicateRuns} duplicate (${duplicatesWithoutAmbiguity} without an ambiguous submit); ${unresolvedAmbiguous} unresolved; ${billedUnsettled} billed runs not in the ledger`,
    },
    exactSpend: {
      id: 3,
      name: 'exact spend',
      holds: differenceMicroUsd === 0 && ledgerCellsDiffering === 0 && settledTwice === 0 && costMismatches === 0,
      detail: `ledger ${ledgerMicroUsd} µUSD vs billed ${facts.billing.totalMicroUsd} µUSD; ${ledgerCellsDiffering} queue/model/day cells differ; ${settledTwice} settled twice; ${costMismatches} per-run cost mismatches`,
    },
    numbers: {
      duplicateRuns,
      ambiguousSubmits: facts.runs.reduce((n, run) => n + run.unanswered, 0),
      ambiguousResolution: resolution,
      unresolvedAmbiguous,
      settledRuns: facts.markers.length,
      settledTwice,
      wasteRuns: facts.ledgerRows.reduce((n, row) => n + row.wasteRuns, 0),
      wasteMicroUsd: facts.ledgerRows.reduce((n, row) => n + row.wasteMicroUsd, 0),
      billedUnsettled,
      costMismatches,
      ledgerMicroUsd,
      simBilledMicroUsd: facts.billing.totalMicroUsd,
      differenceMicroUsd,
      ledgerCellsDiffering,
    },
  };
}
