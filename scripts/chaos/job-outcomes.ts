import { failureCode } from '@runflow-queue/shared';
import type { ChaosReport, RunObservations } from './chaos-report.ts';
import type { ChaosFacts, JobFact } from './collect-facts.ts';

// Every job of the run, indexed once, and how each ended: what the other verdicts start from.

export const jobKey = (queue: string, id: string) => `${queue}/${id}`;

export const isFinished = (job: JobFact | undefined) => job?.state === 'completed' || job?.state === 'failed';

export interface JobOutcomes {
  byKey: Map<string, JobFact>;
  /** Jobs the producer acknowledged, as found in Redis (undefined: not found). */
  accepted: (JobFact | undefined)[];
  lost: number;
  unacknowledged: number;
  /** Our jobs (not the legacy ones) that completed. */
  completed: JobFact[];
  failed: JobFact[];
  failedByCode: Record<string, number>;
}

export function jobOutcomes(facts: ChaosFacts, seen: RunObservations): JobOutcomes {
  const byKey = new Map(facts.jobs.map((job) => [jobKey(job.queue, job.id), job]));
  const accepted = [...seen.accepted].map((k) => byKey.get(k));
  const isOurs = (job: JobFact) => !seen.legacyInvalid.has(jobKey(job.queue, job.id));
  const failed = facts.jobs.filter((job) => job.state === 'failed');
  const failedByCode: Record<string, number> = {};
  for (const job of failed) {
    const code = failureCode(job.failedReason) ?? 'UNCODED';
    failedByCode[code] = (failedByCode[code] ?? 0) + 1;
  }
  return {
    byKey,
    accepted,
    lost: accepted.filter((job) => !isFinished(job)).length,
    unacknowledged: facts.jobs.filter((job) => !seen.accepted.has(jobKey(job.queue, job.id)) && isOurs(job)).length,
    completed: facts.jobs.filter((job) => isOurs(job) && job.state === 'completed'),
    failed,
    failedByCode,
  };
}

/** Invariant 1: every accepted job reached completed or failed. */
export function nothingLost(outcomes: JobOutcomes, seen: RunObservations): ChaosReport['invariants'][number] {
  return {
    id: 1,
    name: 'nothing lost',
    holds: outcomes.lost === 0 && seen.accepted.size > 0,
    detail: `${seen.accepted.size} accepted, ${outcomes.accepted.filter(isFinished).length} finished, ${outcomes.lost} lost`,
  };
}
