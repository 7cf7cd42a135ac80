import type { SimRun } from '@runflow-queue/runflow-sim';
import { failureCode } from '@runflow-queue/shared';
import type { ChaosPlan } from './chaos-plan.ts';
import type { ChaosFacts, JobFact } from './collect-facts.ts';

// Turns the facts of a run into the report: the numbers of the summary table and one verdict per
// invariant of ARCHITECTURE.md. Nothing is assumed: "settled twice" counts settlements against settle
// markers and runs, "lost" compares the job ids the producer accepted with the jobs that finished.

export interface RunObservations {
  /** `queue/jobId` of every job the producer acknowledged. */
  accepted: Set<string>;
  /** `queue/jobId` of the raw jobs written with invalid data. */
  legacyInvalid: Set<string>;
  /** Producer calls that failed (Redis away): how long each took to fail, and its code. */
  producerFailures: { ms: number; code: string }[];
  /** The slowest producer call of the run, answered or failed (ms). */
  slowestProducerCallMs: number;
  /** Every SIGTERM given to a worker: exit code and how long it took. */
  drains: { code: number | null; signal: string | null; ms: number }[];
  /** Jobs active right after the last worker stopped. */
  activeAfterShutdown: number;
  processFaults: {
    workersKilled: number;
    /** Workers that exited or hung before "worker started" (killed during their start): each replaced. */
    workersDiedStarting: number;
    workersDrained: number;
    ingestDownMs: number;
    redisRestarts: number;
  };
  /** Fault events that could not be carried out (the run still finishes; the verdict fails). */
  scheduleErrors: string[];
  elapsedMs: number;
}

export interface InvariantVerdict {
  id: number;
  name: string;
  holds: boolean;
  detail: string;
}

export interface ChaosReport {
  jobs: number;
  accepted: number;
  completed: number;
  failed: number;
  failedByCode: Record<string, number>;
  lost: number;
  /** Jobs in Redis the producer never acknowledged (its answer was lost); they finished like the rest. */
  unacknowledged: number;
  runsCreated: number;
  runsBilled: number;
  duplicateRuns: number;
  /** Creates the simulator answered with a reset (the client saw no answer): ambiguous submits. */
  ambiguousSubmits: number;
  /** Jobs that went through an ambiguous submit (a reset, or their worker died mid-submit), by outcome. */
  ambiguousResolution: {
    adoptedByCallback: number;
    adoptedByLookup: number;
    replayedByIdempotencyKey: number;
    resubmittedNewRun: number;
  };
  unresolvedAmbiguous: number;
  settledRuns: number;
  settledTwice: number;
  wasteRuns: number;
  wasteMicroUsd: number;
  billedUnsettled: number;
  costMismatches: number;
  ledgerMicroUsd: number;
  simBilledMicroUsd: number;
  differenceMicroUsd: number;
  /** (queue, model, day) cells where the ledger and the simulator's billing differ. */
  ledgerCellsDiffering: number;
  callbacks: {
    received: number;
    duplicate: number;
    rejected: number;
    rejected401: number;
    storeFailed503: number;
    unreachable: number;
    givenUp: number;
    dropped: number;
  };
  completedByCallback: number;
  completedByPoll: number;
  faultsInjected: Record<string, number>;
  /** Requests the simulator answered (or reset): the opportunities its request faults had. */
  simRequests: { create: number; get: number; search: number };
  processFaults: RunObservations['processFaults'];
  scheduleErrors: string[];
  rateLimit: { configuredPerSecond: number; burst: number; maxRequestsInOneSecond: number };
  budget: {
    queue: string;
    reservationsHeld: number;
    reservedMicroUsd: number;
    spentMicroUsd: number;
    expectedMicroUsd: number;
  }[];
  producer: { slowestCallMs: number; failedCalls: number; codes: string[] };
  shutdown: { sigterms: number; maxExitMs: number; badExits: number; activeAfter: number; graceMs: number };
  elapsedMs: number;
  invariants: InvariantVerdict[];
  ok: boolean;
}

/** Failure codes a chaos run expects: runs the simulator failed, and the legacy jobs' bad data. */
const EXPECTED_FAILURES = new Set(['RUN_FAILED', 'INVALID_JOB_DATA']);

const key = (queue: string, id: string) => `${queue}/${id}`;

export function checkInvariants(plan: ChaosPlan, facts: ChaosFacts, seen: RunObservations): ChaosReport {
  const jobsByKey = new Map(facts.jobs.map((job) => [key(job.queue, job.id), job]));
  const finished = (job: JobFact | undefined) => job?.state === 'completed' || job?.state === 'failed';

  // 1. Nothing lost.
  const acceptedJobs = [...seen.accepted].map((k) => jobsByKey.get(k));
  const lost = acceptedJobs.filter((job) => !finished(job)).length;
  const unacknowledged = facts.jobs.filter(
    (job) => !seen.accepted.has(key(job.queue, job.id)) && !seen.legacyInvalid.has(key(job.queue, job.id)),
  ).length;
  const ours = facts.jobs.filter((job) => !seen.legacyInvalid.has(key(job.queue, job.id)));
  const completed = ours.filter((job) => job.state === 'completed');
  const failed = facts.jobs.filter((job) => job.state === 'failed');
  const failedByCode: Record<string, number> = {};
  for (const job of facts.jobs.filter((j) => j.state === 'failed')) {
    const code = failureCode(job.failedReason) ?? 'UNCODED';
    failedByCode[code] = (failedByCode[code] ?? 0) + 1;
  }

  // 2. Pay once: every run the simulator created, grouped by the job its metadata names.
  const runsByJob = new Map<string, SimRun[]>();
  const foreignRuns: SimRun[] = [];
  for (const run of facts.runs) {
    const meta = run.metadata as { queue?: unknown; jobId?: unknown } | null;
    if (typeof meta?.queue !== 'string' || typeof meta.jobId !== 'string') {
      foreignRuns.push(run);
      continue;
    }
    const k = key(meta.queue, meta.jobId);
    runsByJob.set(k, [...(runsByJob.get(k) ?? []), run]);
  }
  const finalRun = (job: JobFact | undefined) => (finished(job) ? job?.data.runId : undefined);
  const markersByRun = new Map<string, { queue: string; costMicroUsd: number; outcome: string }[]>();
  for (const marker of facts.markers)
    markersByRun.set(marker.runId, [...(markersByRun.get(marker.runId) ?? []), marker]);

  let duplicateRuns = 0;
  let duplicatesWithoutAmbiguity = 0;
  let unresolvedAmbiguous = 0;
  const resolution = { adoptedByCallback: 0, adoptedByLookup: 0, replayedByIdempotencyKey: 0, resubmittedNewRun: 0 };
  for (const [k, runs] of runsByJob) {
    const job = jobsByKey.get(k);
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
  const stuckSubmitting = facts.jobs.filter((job) => !finished(job) && job.data.step === 'submitting').length;
  unresolvedAmbiguous += stuckSubmitting;

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
  const resultRunIds = completed.map((job) => job.result?.runId).filter((id): id is string => id !== undefined);
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
  const wasteRuns = facts.ledgerRows.reduce((n, row) => n + row.wasteRuns, 0);
  const wasteMicroUsd = facts.ledgerRows.reduce((n, row) => n + row.wasteMicroUsd, 0);

  // 4. Budgets: nothing still reserved; what the windows call spent is what jobs settled (waste settled
  // outside a job counts against no window).
  const budget = facts.budgets
    .filter((b) => plan.workloads.queues.some((q) => q.name === b.queue && q.budget))
    .map((b) => {
      const rows = facts.ledgerRows.filter((row) => row.queue === b.queue);
      const expected = rows.reduce((n, row) => n + row.spendMicroUsd - row.wasteMicroUsd, 0);
      return { ...b, expectedMicroUsd: expected };
    });

  // 5. Rate limit: the busiest second of requests to the simulator (creates and polls), fleet-wide.
  const times = [...facts.requestTimes].sort((a, b) => a - b);
  let maxRequestsInOneSecond = 0;
  for (let lo = 0, hi = 0; hi < times.length; hi += 1) {
    while (times[hi] - times[lo] >= 1_000) lo += 1;
    maxRequestsInOneSecond = Math.max(maxRequestsInOneSecond, hi - lo + 1);
  }
  const rate = plan.workloads.rateLimit ?? { requestsPerSecond: 20, burst: 20 };
  const configuredPerSecond = rate.requestsPerSecond ?? 20;
  const burst = rate.burst ?? 20;

  // 6. Callbacks: every delivery attempt the simulator made, by what ingest answered.
  const callbacks = {
    received: Object.values(facts.callbacks).reduce((n, c) => n + c.received, 0),
    duplicate: Object.values(facts.callbacks).reduce((n, c) => n + c.duplicate, 0),
    rejected: 0,
    rejected401: 0,
    storeFailed503: 0,
    unreachable: 0,
    givenUp: facts.simStats.callbacksFailed,
    dropped: facts.simStats.callbacksDropped,
  };
  for (const run of facts.runs) {
    for (const attempt of run.deliveries) {
      if (attempt.statusCode === null) callbacks.unreachable += 1;
      else if (attempt.statusCode === 401) callbacks.rejected401 += 1;
      else if (attempt.statusCode === 503) callbacks.storeFailed503 += 1;
      if (attempt.statusCode !== null && attempt.statusCode >= 400 && attempt.statusCode !== 503)
        callbacks.rejected += 1;
    }
  }
  const completedByPoll = completed.filter((job) => job.result?.completedBy === 'poll').length;

  // 7. Bad input: the legacy jobs failed INVALID_JOB_DATA; nothing failed for a reason chaos does not cause.
  const legacy = [...seen.legacyInvalid].map((k) => jobsByKey.get(k));
  const legacyRejected = legacy.filter((job) => failureCode(job?.failedReason) === 'INVALID_JOB_DATA').length;
  const unexpectedFailures = Object.entries(failedByCode).filter(([code]) => !EXPECTED_FAILURES.has(code));

  // 8. Shutdown.
  const badExits = seen.drains.filter((d) => d.code !== 0 || d.ms > plan.shutdownGraceMs).length;
  const maxExitMs = Math.max(0, ...seen.drains.map((d) => d.ms));

  const differenceMicroUsd = ledgerMicroUsd - facts.billing.totalMicroUsd;
  const fmt = (entries: [string, number][]) => entries.map(([c, n]) => `${c} ${n}`).join(', ');
  const invariants: InvariantVerdict[] = [
    {
      id: 1,
      name: 'nothing lost',
      holds: lost === 0 && seen.accepted.size > 0,
      detail: `${seen.accepted.size} accepted, ${acceptedJobs.filter(finished).length} finished, ${lost} lost`,
    },
    {
      id: 2,
      name: 'pay once',
      holds:
        (plan.idempotency === 'honour' ? duplicateRuns === 0 : duplicatesWithoutAmbiguity === 0) &&
        unresolvedAmbiguous === 0 &&
        billedUnsettled === 0 &&
        foreignRuns.length === 0,
      detail: `${facts.runs.length} runs for ${runsByJob.size} jobs; ${duplicateRuns} duplicate (${duplicatesWithoutAmbiguity} without an ambiguous submit); ${unresolvedAmbiguous} unresolved; ${billedUnsettled} billed runs not in the ledger`,
    },
    {
      id: 3,
      name: 'exact spend',
      holds: differenceMicroUsd === 0 && ledgerCellsDiffering === 0 && settledTwice === 0 && costMismatches === 0,
      detail: `ledger ${ledgerMicroUsd} µUSD vs billed ${facts.billing.totalMicroUsd} µUSD; ${ledgerCellsDiffering} queue/model/day cells differ; ${settledTwice} settled twice; ${costMismatches} per-run cost mismatches`,
    },
    {
      id: 4,
      name: 'budgets bind before money moves',
      holds: budget.every(
        (b) => b.reservationsHeld === 0 && b.reservedMicroUsd === 0 && b.spentMicroUsd === b.expectedMicroUsd,
      ),
      detail: budget
        .map(
          (b) =>
            `${b.queue}: ${b.reservationsHeld} reservations left, spent ${b.spentMicroUsd} µUSD = settled ${b.expectedMicroUsd}`,
        )
        .join('; '),
    },
    {
      id: 5,
      name: 'rate limit held fleet-wide',
      holds:
        maxRequestsInOneSecond <= configuredPerSecond + burst &&
        !failedByCode.RATE_LIMITED_TOO_LONG &&
        !failedByCode.RUNFLOW_RETRIES_EXHAUSTED &&
        !failedByCode.ATTEMPTS_EXHAUSTED,
      detail: `busiest second ${maxRequestsInOneSecond} requests (limit ${configuredPerSecond}/s + burst ${burst}); ${facts.simStats.faultsInjected.createRateLimited + facts.simStats.faultsInjected.getRateLimited} injected 429s burned no job`,
    },
    {
      id: 6,
      name: 'callbacks authenticated',
      holds: callbacks.rejected === 0,
      detail: `${callbacks.rejected401} answered 401 across the secret rotation, ${callbacks.rejected} rejected in all`,
    },
    {
      id: 7,
      name: 'bad input gets a clear error',
      holds: legacyRejected === seen.legacyInvalid.size && unexpectedFailures.length === 0,
      detail: `${legacyRejected}/${seen.legacyInvalid.size} legacy jobs failed INVALID_JOB_DATA; unexpected failures: ${fmt(unexpectedFailures) || 'none'}`,
    },
    {
      id: 8,
      name: 'clean shutdown',
      holds: badExits === 0 && seen.activeAfterShutdown === 0 && seen.drains.length > 0,
      detail: `${seen.drains.length} SIGTERMs, slowest exit ${maxExitMs} ms (grace ${plan.shutdownGraceMs}), ${badExits} bad exits, ${seen.activeAfterShutdown} jobs left active`,
    },
    {
      id: 9,
      name: 'producer never hangs on Redis',
      holds: seen.slowestProducerCallMs < 10_000 && seen.producerFailures.every((f) => f.code === 'REDIS_UNAVAILABLE'),
      detail: `slowest enqueue ${seen.slowestProducerCallMs} ms across the Redis restart; ${seen.producerFailures.length} failed (${[...new Set(seen.producerFailures.map((f) => f.code))].join(', ') || 'none'})`,
    },
  ];

  return {
    jobs: plan.jobs,
    accepted: seen.accepted.size,
    completed: completed.length,
    failed: failed.length,
    failedByCode,
    lost,
    unacknowledged,
    runsCreated: facts.runs.length,
    runsBilled: facts.billing.entries.length,
    duplicateRuns,
    ambiguousSubmits: facts.runs.reduce((n, run) => n + run.unanswered, 0),
    ambiguousResolution: resolution,
    unresolvedAmbiguous,
    settledRuns: facts.markers.length,
    settledTwice,
    wasteRuns,
    wasteMicroUsd,
    billedUnsettled,
    costMismatches,
    ledgerMicroUsd,
    simBilledMicroUsd: facts.billing.totalMicroUsd,
    differenceMicroUsd,
    ledgerCellsDiffering,
    callbacks,
    completedByCallback: completed.length - completedByPoll,
    completedByPoll,
    faultsInjected: facts.simStats.faultsInjected,
    simRequests: {
      create: facts.simStats.createRequests,
      get: facts.simStats.getRequests,
      search: facts.simStats.searchRequests,
    },
    processFaults: seen.processFaults,
    scheduleErrors: seen.scheduleErrors,
    rateLimit: { configuredPerSecond, burst, maxRequestsInOneSecond },
    budget,
    producer: {
      slowestCallMs: seen.slowestProducerCallMs,
      failedCalls: seen.producerFailures.length,
      codes: [...new Set(seen.producerFailures.map((f) => f.code))],
    },
    shutdown: {
      sigterms: seen.drains.length,
      maxExitMs,
      badExits,
      activeAfter: seen.activeAfterShutdown,
      graceMs: plan.shutdownGraceMs,
    },
    elapsedMs: seen.elapsedMs,
    invariants,
    ok: invariants.every((v) => v.holds) && seen.scheduleErrors.length === 0,
  };
}
