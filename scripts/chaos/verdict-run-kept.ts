import { failureCode } from '@runflow-queue/shared';
import type { InvariantVerdict } from './chaos-report.ts';
import type { ChaosFacts } from './collect-facts.ts';
import type { JobOutcomes } from './job-outcomes.ts';

// Invariant 9: a job with a run is never given up before its run. Every failed job that has a run on
// the simulator (found by the metadata the worker sends with each create) must have failed with that
// run's own outcome: RUN_FAILED for a run the simulator failed. ATTEMPTS_EXHAUSTED,
// RUN_DEADLINE_EXCEEDED or anything else on a job whose run exists means a paid run's outcome was lost.

export function checkRunKept(facts: ChaosFacts, outcomes: JobOutcomes): InvariantVerdict {
  const runsOfJob = new Map<string, { id: string; status: string }[]>();
  for (const run of facts.runs) {
    const meta = run.metadata as { queue?: unknown; jobId?: unknown } | null;
    if (typeof meta?.queue !== 'string' || typeof meta.jobId !== 'string') continue;
    const key = `${meta.queue}/${meta.jobId}`;
    runsOfJob.set(key, [...(runsOfJob.get(key) ?? []), { id: run.id, status: run.status_code }]);
  }
  let withRun = 0;
  const givenUp: string[] = [];
  for (const job of outcomes.failed) {
    const runs = runsOfJob.get(`${job.queue}/${job.id}`);
    if (!runs) continue;
    withRun += 1;
    const code = failureCode(job.failedReason) ?? 'UNCODED';
    const own = runs.find((run) => run.id === job.data.runId);
    if (code !== 'RUN_FAILED' || own?.status !== 'failed') givenUp.push(`${job.queue}/${job.id} ${code}`);
  }
  return {
    id: 9,
    name: 'a job with a run is never given up before its run',
    holds: givenUp.length === 0,
    detail: `${withRun} failed jobs had a run: ${withRun - givenUp.length} failed RUN_FAILED with their failed run${givenUp.length ? `; given up: ${givenUp.slice(0, 5).join(', ')}${givenUp.length > 5 ? ', …' : ''}` : ''}`,
  };
}
