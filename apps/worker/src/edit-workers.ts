import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkerMetrics } from '@runflow-queue/metrics';
import type { EditNotifier } from '@runflow-queue/notifier';
import type { RunflowClient } from '@runflow-queue/runflow-client';
import type { EditJobData, EditResult, WorkloadsConfig } from '@runflow-queue/shared';
import {
  BudgetStore,
  bullPrefix,
  CallbackInbox,
  InflightCaps,
  ModelIds,
  openQueue,
  type RedisClient,
  RunIndex,
  SpendLedger,
  SpendRecords,
} from '@runflow-queue/store';
import { queueTelemetry } from '@runflow-queue/tracing';
import { MetricsTime, type Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { reportingAnsweredReads } from './answered-reads.ts';
import { type HoldsConfig, HoldsMonitor } from './holds-monitor.ts';
import type { LifecycleConfig } from './lifecycle-config.ts';
import type { LifecycleHooks } from './park-job.ts';
import { createEditProcessor } from './process-edit-job.ts';
import { RedisTrouble } from './redis-trouble.ts';
import { type ReconcilerOptions, SpendReconciler } from './spend-reconciler.ts';
import { ObservedRateGovernor, observeEditWorker } from './worker-metrics.ts';

export interface EditWorkersOptions {
  /** Shared by all queues; BullMQ needs `maxRetriesPerRequest: null` on it. */
  connection: RedisClient;
  prefix: string;
  /** Queues, their models, concurrency, shares, deadlines and budgets; the account's rate limit. */
  workloads: WorkloadsConfig;
  /** Serve only these queues of the workloads (default: all of them). */
  queues?: readonly string[];
  /** Identifies the Runflow account's rate limit: one governor per value (only its hash is stored). */
  governorKey: string;
  client: RunflowClient;
  lifecycle: LifecycleConfig;
  logger: Logger;
  hooks?: LifecycleHooks;
  /** Prometheus metrics (jobs, spend, durations, governor decisions); unset: none recorded. */
  metrics?: WorkerMetrics;
  /** Enqueues the edit.completed / edit.failed webhook of jobs with a notifyUrl (unset: none are sent). */
  notifier?: EditNotifier;
  /** BullMQ lock: a worker that dies mid-job frees it after this (default 30 s). */
  lockDurationMs?: number;
  /** Steps are idempotent, so a job may stall (its worker killed) many times without failing. */
  maxStalledCount?: number;
  /** Breaker thresholds, credit probe interval, hold refresh and recheck (default DEFAULT_HOLDS_CONFIG). */
  holds?: HoldsConfig;
  /**
   * The spend reconciler (one per fleet, by lease): confirms estimated runs against Runflow's record,
   * books runs the ledger lacks, samples the balance. Unset: this process does not run it.
   */
  reconciler?: (ReconcilerOptions & { share: number }) | undefined;
  /** Divides the retention of the run index and settle markers (benchmarks; default 1). */
  retentionDivisor?: number;
  now?: () => number;
}

export interface EditWorkers {
  workers: Worker<EditJobData, EditResult>[];
  /** The account's holds as this process sees them (cached, refreshed every holds.refreshMs). */
  holds: HoldsMonitor;
  reconciler: SpendReconciler | undefined;
  /** Stops pulling, lets active jobs finish or park, closes the BullMQ connections. */
  close(): Promise<void>;
}

/**
 * Adds the queues to the ledger's list (for `pnpm spend` and the dashboard) without holding up the
 * start: a worker that boots while Redis refuses writes (maxmemory, a failover) starts anyway and
 * keeps trying in the background.
 */
function registerQueues(ledger: SpendLedger, queues: string[], trouble: RedisTrouble, logger: Logger) {
  let stopped = false;
  void (async () => {
    for (const queue of queues) {
      for (;;) {
        if (stopped) return;
        try {
          await ledger.registerQueue(queue);
          break;
        } catch (error) {
          if (!trouble.record(error, 'register queue')) {
            logger.error({ err: error, queue }, 'could not add the queue to the ledger list');
            break;
          }
          await sleep(trouble.backoffMs());
        }
      }
    }
  })();
  return {
    stop() {
      stopped = true;
    },
  };
}

export async function startEditWorkers(options: EditWorkersOptions): Promise<EditWorkers> {
  const { connection, prefix, logger } = options;
  const { retentionDivisor } = options;
  const inbox = new CallbackInbox(connection, { prefix, retentionDivisor });
  const runIndex = new RunIndex(connection, { prefix, retentionDivisor });
  const modelIds = new ModelIds(connection, { prefix });
  const ledger = new SpendLedger(connection, { prefix });
  const budgets = new BudgetStore(connection, { prefix });
  // Every submit holds an in-flight slot, so a 429 can be read against the runs in flight (a model's cap).
  const inflight = new InflightCaps(connection, { prefix, apiKey: options.governorKey });
  const client = reportingAnsweredReads(options.client, () => inflight.answered());
  const governor = new ObservedRateGovernor(
    connection,
    {
      prefix,
      apiKey: options.governorKey,
      requestsPerSecond: options.workloads.rateLimit.requestsPerSecond,
      burst: options.workloads.rateLimit.burst,
      now: options.now,
    },
    options.metrics,
  );
  const trouble = new RedisTrouble({ metrics: options.metrics, logger });
  const holds = new HoldsMonitor({
    connection,
    prefix,
    accountKey: options.governorKey,
    client,
    config: options.holds,
    logger,
    metrics: options.metrics,
    trouble,
    now: options.now,
  });
  const served = options.workloads.queues.filter((w) => !options.queues || options.queues.includes(w.name));
  const unknown = (options.queues ?? []).filter((name) => !served.some((w) => w.name === name));
  if (unknown.length > 0) throw new Error(`queues not in the workloads config: ${unknown.join(', ')}`);
  await holds.start();
  const workers: Worker<EditJobData, EditResult>[] = [];
  const queues: Queue[] = [];
  for (const workload of served) {
    const queue = workload.name;
    // Only for BullMQ's manual rate limit (queue-wide): workers of this queue stop pulling for a while.
    const limiter = openQueue(connection, prefix, queue, logger);
    queues.push(limiter);
    const processor = createEditProcessor({
      queue,
      client,
      inbox,
      runIndex,
      ledger,
      modelIds,
      lifecycle: options.lifecycle,
      governance: {
        workload,
        governor,
        budgets,
        inflight,
        modelCaps: options.workloads.models,
        rateLimitQueue: (ms) => limiter.rateLimit(Math.max(1, Math.ceil(ms))),
      },
      holds,
      trouble,
      metrics: options.metrics,
      logger,
      hooks: options.hooks,
      notifier: options.notifier,
      now: options.now ?? Date.now,
    });
    const worker = new Worker<EditJobData, EditResult>(queue, processor, {
      connection,
      prefix: bullPrefix(prefix, queue),
      concurrency: workload.concurrency,
      lockDuration: options.lockDurationMs ?? 30_000,
      // The stalled check follows the lock, so a killed worker's jobs are retaken within about two lock
      // durations (BullMQ checks every 30 s whatever the lock, which left a short lock's jobs idle for a minute).
      stalledInterval: options.lockDurationMs ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 20,
      // Completed/failed per minute, kept a week: the throughput chart and `pnpm stats`.
      metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
      // BullMQ honours the manual rate limit (queue.rateLimit, our governor's "stop pulling for N ms")
      // only in workers that have a limiter; this one is far above any real rate, so it never binds
      // by itself — the governor does the limiting, per request, fleet-wide.
      limiter: { max: 1_000_000, duration: 1_000 },
      // With tracing on, each wake-up is a "process" span in the trace the job carries.
      telemetry: queueTelemetry(),
    });
    worker.on('error', (err) => {
      // Redis trouble is counted (and logged once per streak) by the tracker; BullMQ backs off by itself.
      if (!trouble.record(err, 'worker')) logger.error({ err, queue }, 'worker error');
    });
    worker.on('failed', (job, err) => {
      if (job)
        logger.warn(
          {
            queue,
            jobId: job.id,
            model: job.data.model,
            runId: job.data.runId,
            clientRef: job.data.clientRef,
            reason: err.message,
          },
          'job failed',
        );
    });
    if (options.metrics) observeEditWorker(worker, { queue, metrics: options.metrics, logger });
    workers.push(worker);
  }
  const registering = registerQueues(
    ledger,
    served.map((w) => w.name),
    trouble,
    logger,
  );
  const reconciler =
    options.reconciler &&
    startReconciler({ ...options, client }, options.reconciler, { ledger, runIndex, governor, modelIds, holds });
  return {
    workers,
    holds,
    reconciler: reconciler?.reconciler,
    async close() {
      registering.stop();
      await reconciler?.close();
      await Promise.all(workers.map((worker) => worker.close()));
      await Promise.all(queues.map((queue) => queue.close()));
      await holds.stop();
    },
  };
}

function startReconciler(
  options: EditWorkersOptions,
  settings: ReconcilerOptions & { share: number },
  stores: {
    ledger: SpendLedger;
    runIndex: RunIndex;
    governor: ObservedRateGovernor;
    modelIds: ModelIds;
    holds: HoldsMonitor;
  },
): { reconciler: SpendReconciler; close(): Promise<void> } {
  const { connection, prefix, logger } = options;
  // Every queue of the workloads, served here or not: a run of any of them is ours to reconcile.
  const lookups = new Map(
    options.workloads.queues.map((w) => [w.name, openQueue(connection, prefix, w.name, logger)] as const),
  );
  const reconciler = new SpendReconciler(
    {
      client: options.client,
      governor: stores.governor,
      ledger: stores.ledger,
      records: new SpendRecords(connection, { prefix }),
      runIndex: stores.runIndex,
      modelIds: stores.modelIds,
      queue: (name) => lookups.get(name),
      redis: connection,
      prefix,
      share: settings.share,
      logger: logger.child({ component: 'spend-reconciler' }),
      now: options.now ?? Date.now,
      breakerOpen: () => stores.holds.breakerOpen(),
    },
    settings,
  );
  reconciler.start();
  return {
    reconciler,
    async close() {
      await reconciler.close();
      await Promise.all([...lookups.values()].map((queue) => queue.close()));
    },
  };
}
