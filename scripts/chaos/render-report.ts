import { formatMicroUsd, formatTable } from '@runflow-queue/shared';
import type { ChaosReport } from './check-invariants.ts';

/** The one table a chaos run prints: what happened, then a verdict per invariant. */
export function renderReport(r: ChaosReport): string {
  const failures =
    Object.entries(r.failedByCode)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ') || 'none';
  const c = r.callbacks;
  const rows: [string, string | number][] = [
    ['jobs accepted', r.accepted],
    ['completed', r.completed],
    ['failed, by code (legacy jobs with invalid data included)', `${r.failed} (${failures})`],
    ['lost', r.lost],
    ['runs created / billed', `${r.runsCreated} / ${r.runsBilled}`],
    ['ambiguous submits (creates answered with a reset)', r.ambiguousSubmits],
    [
      'jobs with an ambiguous submit: adopted by callback / by lookup / replayed by key / resubmitted (new run)',
      `${r.ambiguousResolution.adoptedByCallback} / ${r.ambiguousResolution.adoptedByLookup} / ${r.ambiguousResolution.replayedByIdempotencyKey} / ${r.ambiguousResolution.resubmittedNewRun}`,
    ],
    ['duplicate runs', r.duplicateRuns],
    ['unresolved ambiguous', r.unresolvedAmbiguous],
    ['runs settled / settled twice', `${r.settledRuns} / ${r.settledTwice}`],
    ['waste runs (settled, kept by no job)', `${r.wasteRuns} (${formatMicroUsd(r.wasteMicroUsd)})`],
    ['ledger', formatMicroUsd(r.ledgerMicroUsd)],
    ['simulator billing', formatMicroUsd(r.simBilledMicroUsd)],
    ['difference (µUSD)', r.differenceMicroUsd],
    ['callbacks received / duplicate / rejected', `${c.received} / ${c.duplicate} / ${c.rejected}`],
    [
      'callback attempts: unreachable / 503 / given up / dropped',
      `${c.unreachable} / ${c.storeFailed503} / ${c.givenUp} / ${c.dropped}`,
    ],
    ['completed by callback / by poll', `${r.completedByCallback} / ${r.completedByPoll}`],
    [
      'process faults: workers killed (of them during start) / drained, ingest down, Redis restarts',
      `${r.processFaults.workersKilled} (${r.processFaults.workersDiedStarting}) / ${r.processFaults.workersDrained}, ${(r.processFaults.ingestDownMs / 1000).toFixed(0)} s, ${r.processFaults.redisRestarts}`,
    ],
    ['fault events that failed', r.scheduleErrors.length === 0 ? 'none' : r.scheduleErrors.join('; ')],
    [
      'simulator requests: create / get / search',
      `${r.simRequests.create} / ${r.simRequests.get} / ${r.simRequests.search}`,
    ],
    [
      'simulator faults injected',
      Object.entries(r.faultsInjected)
        .filter(([, n]) => n > 0)
        .map(([kind, n]) => `${kind} ${n}`)
        .join(', '),
    ],
    ...(r.scenarioRows ?? []).map(([label, value]): [string, string | number] => [`${r.scenario}: ${label}`, value]),
    ['elapsed', `${(r.elapsedMs / 1000).toFixed(1)} s`],
    ...r.invariants.map((v): [string, string] => [
      `invariant ${v.id}: ${v.name}`,
      `${v.holds ? 'HOLDS' : 'VIOLATED'} — ${v.detail}`,
    ]),
  ];
  return formatTable(['', 'value'], rows, ['left', 'left']);
}
