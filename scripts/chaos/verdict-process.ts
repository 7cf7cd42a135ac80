import { failureCode } from '@runflow-queue/shared';
import type { ChaosPlan } from './chaos-plan.ts';
import type { ChaosReport, InvariantVerdict, RunObservations } from './chaos-report.ts';
import type { JobOutcomes } from './job-outcomes.ts';

// Invariants 7 (bad input), 8 (clean shutdown) and the producer's own promise (never hangs on Redis):
// what each process did with bad data, SIGTERMs and Redis going away.

/** Failure codes a chaos run expects: runs the simulator failed, and the legacy jobs' bad data. */
const EXPECTED_FAILURES = new Set(['RUN_FAILED', 'INVALID_JOB_DATA']);

/** 7. The legacy jobs failed INVALID_JOB_DATA; nothing failed for a reason chaos does not cause. */
export function checkBadInput(outcomes: JobOutcomes, seen: RunObservations): InvariantVerdict {
  const legacy = [...seen.legacyInvalid].map((k) => outcomes.byKey.get(k));
  const legacyRejected = legacy.filter((job) => failureCode(job?.failedReason) === 'INVALID_JOB_DATA').length;
  const unexpected = Object.entries(outcomes.failedByCode).filter(([code]) => !EXPECTED_FAILURES.has(code));
  return {
    id: 7,
    name: 'bad input gets a clear error',
    holds: legacyRejected === seen.legacyInvalid.size && unexpected.length === 0,
    detail: `${legacyRejected}/${seen.legacyInvalid.size} legacy jobs failed INVALID_JOB_DATA; unexpected failures: ${unexpected.map(([c, n]) => `${c} ${n}`).join(', ') || 'none'}`,
  };
}

/** 8. Every SIGTERM ended with exit 0 within the grace period, and no job was left active. */
export function checkShutdown(
  plan: ChaosPlan,
  seen: RunObservations,
): { verdict: InvariantVerdict; shutdown: ChaosReport['shutdown'] } {
  const badExits = seen.drains.filter((d) => d.code !== 0 || d.ms > plan.shutdownGraceMs).length;
  const maxExitMs = Math.max(0, ...seen.drains.map((d) => d.ms));
  return {
    shutdown: {
      sigterms: seen.drains.length,
      maxExitMs,
      badExits,
      activeAfter: seen.activeAfterShutdown,
      graceMs: plan.shutdownGraceMs,
    },
    verdict: {
      id: 8,
      name: 'clean shutdown',
      holds: badExits === 0 && seen.activeAfterShutdown === 0 && seen.drains.length > 0,
      detail: `${seen.drains.length} SIGTERMs, slowest exit ${maxExitMs} ms (grace ${plan.shutdownGraceMs}), ${badExits} bad exits, ${seen.activeAfterShutdown} jobs left active`,
    },
  };
}

/** The producer answers within seconds while Redis is away, and only with REDIS_UNAVAILABLE. */
export function checkProducer(seen: RunObservations): { verdict: InvariantVerdict; producer: ChaosReport['producer'] } {
  const codes = [...new Set(seen.producerFailures.map((f) => f.code))];
  return {
    producer: { slowestCallMs: seen.slowestProducerCallMs, failedCalls: seen.producerFailures.length, codes },
    verdict: {
      // Not one of ARCHITECTURE's invariants (9 is "a job with a run is never given up"): numbered after them.
      id: 12,
      name: 'producer never hangs on Redis',
      holds: seen.slowestProducerCallMs < 10_000 && seen.producerFailures.every((f) => f.code === 'REDIS_UNAVAILABLE'),
      detail: `slowest enqueue ${seen.slowestProducerCallMs} ms across the Redis restart; ${seen.producerFailures.length} failed (${codes.join(', ') || 'none'})`,
    },
  };
}
