// Every metric this system exports, in one place: name, type, labels, help and which apps export it.
// The apps build their registries from here (create-metrics.ts), the README's table documents it, and
// tests/observability checks that each app's /metrics serves exactly its names.

export type MetricType = 'counter' | 'gauge' | 'histogram';
export type AppName = 'worker' | 'callback-ingest' | 'dashboard';

export interface MetricSpec<L extends string = string> {
  name: string;
  type: MetricType;
  labelNames: readonly L[];
  help: string;
  apps: readonly AppName[];
  /** Histograms only; seconds. */
  buckets?: readonly number[];
}

/** Keeps each entry's literal type and labels, so the apps get typed instruments. */
const spec = <const S extends MetricSpec>(s: S): S => s;

/** States of `rfq_queue_jobs`: BullMQ's own, with its `delayed` called `parked` (a run on Runflow). */
export const QUEUE_DEPTH_STATES = ['waiting', 'prioritized', 'active', 'parked'] as const;
export type QueueDepthState = (typeof QUEUE_DEPTH_STATES)[number];

export const METRIC_CATALOG = {
  jobs: spec({
    name: 'rfq_jobs_total',
    type: 'counter',
    labelNames: ['queue', 'model', 'outcome', 'code'],
    help: 'Edit jobs that ended an attempt: outcome completed | failed (final) | retried (an attempt failed, more remain); code is the failure code ("" when completed).',
    apps: ['worker'],
  }),
  completions: spec({
    name: 'rfq_job_completions_total',
    type: 'counter',
    labelNames: ['queue', 'model', 'completed_by'],
    help: 'Completed edit jobs by how the result came in: completed_by callback | poll.',
    apps: ['worker'],
  }),
  spend: spec({
    name: 'rfq_spend_micro_usd_total',
    type: 'counter',
    labelNames: ['queue', 'model'],
    help: 'Cost of completed jobs in micro-USD, as this process finished them (the ledger, rfq_ledger_spend_micro_usd, is the exact record).',
    apps: ['worker'],
  }),
  runDuration: spec({
    name: 'rfq_run_duration_seconds',
    type: 'histogram',
    labelNames: ['queue', 'model'],
    help: 'Submit to result of completed jobs (the run on Runflow plus our wake-up), seconds.',
    apps: ['worker'],
    buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 900],
  }),
  jobDuration: spec({
    name: 'rfq_job_duration_seconds',
    type: 'histogram',
    labelNames: ['queue', 'model'],
    help: 'Enqueue to completion of completed jobs (end to end), seconds.',
    apps: ['worker'],
    buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 900, 1800, 3600],
  }),
  callbackToCompletion: spec({
    name: 'rfq_callback_to_completion_seconds',
    type: 'histogram',
    labelNames: ['queue'],
    help: "Callback stored by ingest to job completed, for jobs completed by callback (the parked job's wake-up), seconds.",
    apps: ['worker'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  }),
  runflowRequests: spec({
    name: 'rfq_runflow_requests_total',
    type: 'counter',
    labelNames: ['endpoint', 'status', 'outcome'],
    help: 'HTTP attempts to Runflow: endpoint createRun | getRun; status the HTTP status ("none" without a response); outcome ok | retryable | ambiguous | permanent.',
    apps: ['worker'],
  }),
  runflowRequestDuration: spec({
    name: 'rfq_runflow_request_duration_seconds',
    type: 'histogram',
    labelNames: ['endpoint'],
    help: 'Duration of HTTP attempts to Runflow, seconds.',
    apps: ['worker'],
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  }),
  governorDecisions: spec({
    name: 'rfq_rate_governor_decisions_total',
    type: 'counter',
    labelNames: ['queue', 'decision'],
    help: 'Request slots asked of the fleet-wide rate governor: decision granted (at once) | delayed (reserved, waited in-process) | blocked (the queue stops pulling and the job parks).',
    apps: ['worker'],
  }),
  governorWait: spec({
    name: 'rfq_rate_governor_wait_seconds',
    type: 'histogram',
    labelNames: ['queue', 'decision'],
    help: 'Wait the rate governor imposed: delayed → the in-process wait, blocked → how long the queue stops pulling, seconds.',
    apps: ['worker'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  }),
  governorFactor: spec({
    name: 'rfq_rate_governor_factor',
    type: 'gauge',
    labelNames: [],
    help: 'Fraction of the configured Runflow rate the fleet may use now (1 = full; halved per 429 episode, recovering).',
    apps: ['worker'],
  }),
  governorPenalties: spec({
    name: 'rfq_rate_governor_penalties',
    type: 'gauge',
    labelNames: [],
    help: '429 episodes that slowed the fleet since the governor was created (from Redis, shared by all workers).',
    apps: ['worker'],
  }),
  governorLearnedCap: spec({
    name: 'rfq_rate_governor_learned_cap',
    type: 'gauge',
    labelNames: ['model'],
    help: "Runs of a model in flight at once that Runflow accepts, learned from 429s that followed the runs in flight (a model's concurrency cap, not the rate limit: it holds admissions, not the rate). No series while none is learned.",
    apps: ['worker'],
  }),
  queueJobs: spec({
    name: 'rfq_queue_jobs',
    type: 'gauge',
    labelNames: ['queue', 'state'],
    help: 'Jobs in a queue by state: waiting | prioritized (both wait for a worker) | active | parked (run on Runflow, no worker held). Every exporting process reports the same Redis counts: aggregate with max by (queue, state).',
    apps: ['worker', 'dashboard'],
  }),
  budgetRemaining: spec({
    name: 'rfq_budget_remaining_micro_usd',
    type: 'gauge',
    labelNames: ['queue', 'window'],
    help: 'Budget left in the current UTC window (day | month): cap minus spent minus reserved, micro-USD.',
    apps: ['worker', 'dashboard'],
  }),
  budgetCap: spec({
    name: 'rfq_budget_cap_micro_usd',
    type: 'gauge',
    labelNames: ['queue', 'window'],
    help: "The queue's budget for the window (day | month), micro-USD.",
    apps: ['worker', 'dashboard'],
  }),
  ledgerSpend: spec({
    name: 'rfq_ledger_spend_micro_usd',
    type: 'gauge',
    labelNames: ['queue', 'window'],
    help: 'Spend in the ledger for the current UTC day | month, micro-USD (exact; what `pnpm spend` and /spend show).',
    apps: ['dashboard'],
  }),
  ledgerCallerSpend: spec({
    name: 'rfq_ledger_caller_spend_micro_usd',
    type: 'gauge',
    labelNames: ['queue', 'caller', 'window'],
    help: 'Spend in the ledger per named caller (`-`: jobs without one) for the current UTC day | month, micro-USD.',
    apps: ['dashboard'],
  }),
  ledgerWaste: spec({
    name: 'rfq_ledger_waste_micro_usd',
    type: 'gauge',
    labelNames: ['queue'],
    help: 'Spend on runs no job kept (orphans of ambiguous submits) in the ledger, micro-USD.',
    apps: ['dashboard'],
  }),
  spendUnconfirmedRuns: spec({
    name: 'rfq_spend_unconfirmed_runs',
    type: 'gauge',
    labelNames: [],
    help: 'Runs booked from the price table that the spend reconciler has not yet confirmed against Runflow.',
    apps: ['dashboard'],
  }),
  spendOldestUnconfirmedSeconds: spec({
    name: 'rfq_spend_oldest_unconfirmed_seconds',
    type: 'gauge',
    labelNames: [],
    help: 'Age of the oldest unconfirmed run (0 when none): over an hour means the reconciler is not getting through.',
    apps: ['dashboard'],
  }),
  callbacks: spec({
    name: 'rfq_callbacks_total',
    type: 'counter',
    labelNames: ['result'],
    help: 'Signed callbacks accepted by ingest: result stored | duplicate (already in the inbox) | unmatched (no job of ours).',
    apps: ['callback-ingest'],
  }),
  callbacksRejected: spec({
    name: 'rfq_callbacks_rejected_total',
    type: 'counter',
    labelNames: ['reason'],
    help: 'Callbacks refused by ingest, by error code (CALLBACK_SIGNATURE_MISSING, CALLBACK_SIGNATURE_INVALID, CALLBACK_MALFORMED_JSON, …).',
    apps: ['callback-ingest'],
  }),
  callbackStore: spec({
    name: 'rfq_callback_store_seconds',
    type: 'histogram',
    labelNames: [],
    help: 'Callback received to durably stored in Redis (the 2xx answer), seconds.',
    apps: ['callback-ingest'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  }),
  holdActive: spec({
    name: 'rfq_hold_active',
    type: 'gauge',
    labelNames: ['hold', 'queue'],
    help: 'Holds on the account\'s submits, 1 while on: hold breaker (Runflow failing; polls stop too) | credit (402 INSUFFICIENT_CREDIT) | pause (an operator; queue "*" = the whole account).',
    apps: ['worker', 'dashboard'],
  }),
  holdParks: spec({
    name: 'rfq_hold_parks_total',
    type: 'counter',
    labelNames: ['queue', 'hold'],
    help: 'Wake-ups of jobs that met a hold (breaker, credit, pause) and parked again without using an attempt.',
    apps: ['worker'],
  }),
  redisErrors: spec({
    name: 'rfq_redis_errors_total',
    type: 'counter',
    labelNames: ['kind'],
    help: 'Redis trouble the worker met: kind oom (maxmemory, noeviction) | readonly (a failover) | refused (LOADING, CLUSTERDOWN, …) | connection (lost, timed out). Jobs park and retry; no attempt is used.',
    apps: ['worker'],
  }),
  infraRetries: spec({
    name: 'rfq_infra_retries_total',
    type: 'counter',
    labelNames: ['queue', 'step', 'reason'],
    help: 'Jobs parked to retry after an error that was not their own (reason redis | unexpected), by step; a job with a run is never failed for one.',
    apps: ['worker'],
  }),
  collectErrors: spec({
    name: 'rfq_metrics_collect_errors_total',
    type: 'counter',
    labelNames: [],
    help: 'Periodic metric collections (queue depth, governor, budgets, ledger) that failed; the gauges keep their last values.',
    apps: ['worker', 'dashboard'],
  }),
} as const;

export type MetricKey = keyof typeof METRIC_CATALOG;

/** The names one app's /metrics serves (besides the default process_* and nodejs_* metrics). */
export function metricNamesOf(app: AppName): string[] {
  return Object.values(METRIC_CATALOG)
    .filter((m) => (m.apps as readonly AppName[]).includes(app))
    .map((m) => m.name);
}
