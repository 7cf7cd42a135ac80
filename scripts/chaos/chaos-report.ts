// What a chaos run saw while it ran, and the report it ends with: the numbers of the summary table
// and one verdict per invariant of ARCHITECTURE.md.

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
  /** Set by a scenario (`--scenario NAME`): its name and its own numbers, printed as extra rows. */
  scenario?: string;
  scenarioRows?: [string, string | number][];
}
