import {
  type PeriodicCollector,
  readQueueDepth,
  setBudgetGauges,
  setQueueDepth,
  startPeriodicCollector,
  type WorkerMetrics,
} from '@runflow-queue/metrics';
import type { RequestInfo } from '@runflow-queue/runflow-client';
import { type EditJobData, type EditResult, failureCode, type WorkloadsConfig } from '@runflow-queue/shared';
import {
  BudgetStore,
  type GovernorDecision,
  type GovernorOptions,
  InflightCaps,
  openQueue,
  RateGovernor,
  type RedisClient,
  usdToMicro,
} from '@runflow-queue/store';
import type { Worker } from 'bullmq';
import type { Logger } from 'pino';
import { callbackReceivedAt } from './callback-timing.ts';

// Prometheus metrics of the worker, hooked at its edges (BullMQ worker events, the Runflow client's
// onRequest, the governor's acquire) so the job lifecycle itself carries no metrics code.

/** For the Runflow client's `onRequest`: one count and one duration per HTTP attempt. */
export function observeRunflowRequests(metrics: WorkerMetrics): (info: RequestInfo) => void {
  return (info) => {
    metrics.runflowRequests.inc({
      endpoint: info.endpoint,
      status: String(info.status ?? 'none'),
      outcome: info.outcome,
    });
    metrics.runflowRequestDuration.observe({ endpoint: info.endpoint }, info.durationMs / 1000);
  };
}

/** The fleet-wide governor, counting its decisions per queue when given metrics. */
export class ObservedRateGovernor extends RateGovernor {
  readonly #metrics: WorkerMetrics | undefined;

  constructor(redis: RedisClient, options: GovernorOptions, metrics: WorkerMetrics | undefined) {
    super(redis, options);
    this.#metrics = metrics;
  }

  override async acquire(queue: string, share?: number, maxDelayMs?: number): Promise<GovernorDecision> {
    const decision = await super.acquire(queue, share, maxDelayMs);
    const metrics = this.#metrics;
    if (!metrics) return decision;
    if (!decision.granted) {
      metrics.governorDecisions.inc({ queue, decision: 'blocked' });
      metrics.governorWait.observe({ queue, decision: 'blocked' }, decision.waitMs / 1000);
    } else if (decision.delayMs > 0) {
      metrics.governorDecisions.inc({ queue, decision: 'delayed' });
      metrics.governorWait.observe({ queue, decision: 'delayed' }, decision.delayMs / 1000);
    } else {
      metrics.governorDecisions.inc({ queue, decision: 'granted' });
    }
    return decision;
  }
}

/**
 * Counts jobs, spend and durations from the BullMQ worker's events. A `failed` event with retries
 * left (no finishedOn) is an attempt, not an end: it counts as `retried`.
 */
export function observeEditWorker(
  worker: Worker<EditJobData, EditResult>,
  options: { queue: string; metrics: WorkerMetrics; logger: Logger },
): void {
  const { queue, metrics } = options;
  worker.on('completed', (job, result) => {
    if (!result) return;
    const model = job.data.model;
    const t = result.timings;
    metrics.jobs.inc({ queue, model, outcome: 'completed', code: '' });
    metrics.completions.inc({ queue, model, completed_by: result.completedBy });
    metrics.spend.inc({ queue, model }, result.costMicroUsd);
    metrics.runDuration.observe({ queue, model }, Math.max(0, t.completedAt - t.submittedAt) / 1000);
    metrics.jobDuration.observe({ queue, model }, Math.max(0, t.completedAt - t.enqueuedAt) / 1000);
    if (result.completedBy !== 'callback') return;
    // When ingest stored the callback: noted by the step that read it (no second inbox read).
    const receivedAt = callbackReceivedAt(result);
    if (receivedAt !== undefined)
      metrics.callbackToCompletion.observe({ queue }, Math.max(0, t.completedAt - receivedAt) / 1000);
  });
  worker.on('failed', (job, error) => {
    if (!job) return;
    const code = failureCode(error.message) ?? 'UNCODED';
    const outcome = job.finishedOn ? 'failed' : 'retried';
    metrics.jobs.inc({ queue, model: job.data.model, outcome, code });
  });
}

export interface WorkerCollectorOptions {
  connection: RedisClient;
  prefix: string;
  workloads: WorkloadsConfig;
  /** The queues this process serves. */
  queues: readonly string[];
  /** Same value as the workers' governor (RATE_LIMIT_KEY or the API key): reads that governor's state. */
  governorKey: string;
  metrics: WorkerMetrics;
  logger: Logger;
  /** Default 10 s: with a 15 s scrape, KEDA sees depth at most ~25 s old. */
  intervalMs?: number;
}

/**
 * Queue depth per state (what KEDA scales on), budget remaining per window, the governor's rate
 * factor and the per-model caps it learned, refreshed on a timer: a scrape reads the last values and never waits on Redis.
 */
export function startWorkerCollector(options: WorkerCollectorOptions): PeriodicCollector {
  const { connection, prefix, metrics } = options;
  const budgets = new BudgetStore(connection, { prefix });
  const governor = new RateGovernor(connection, {
    prefix,
    apiKey: options.governorKey,
    requestsPerSecond: options.workloads.rateLimit.requestsPerSecond,
    burst: options.workloads.rateLimit.burst,
  });
  const caps = new InflightCaps(connection, { prefix, apiKey: options.governorKey });
  const queues = options.queues.map((name) => openQueue(connection, prefix, name, options.logger));

  const collector = startPeriodicCollector({
    intervalMs: options.intervalMs ?? 10_000,
    onError: (error) => {
      metrics.collectErrors.inc();
      options.logger.warn({ err: error }, 'metrics collection failed; keeping the last values');
    },
    collect: async () => {
      const now = Date.now();
      await Promise.all([
        ...queues.map(async (queue) => setQueueDepth(metrics.queueJobs, queue.name, await readQueueDepth(queue))),
        ...options.workloads.queues
          .filter((w) => w.budget && options.queues.includes(w.name))
          .map(async (w) => {
            const usage = await budgets.usage(w.name, now);
            const windows = (['day', 'month'] as const).flatMap((window) => {
              const usd = window === 'day' ? w.budget?.dailyUsd : w.budget?.monthlyUsd;
              if (usd === undefined) return [];
              const capMicroUsd = usdToMicro(usd);
              const { spentMicroUsd, reservedMicroUsd } = usage[window];
              // Same arithmetic as collectStats' budgets (pnpm stats, the dashboard).
              return [
                { window, capMicroUsd, remainingMicroUsd: Math.max(0, capMicroUsd - spentMicroUsd - reservedMicroUsd) },
              ];
            });
            setBudgetGauges(metrics, w.name, windows);
          }),
        governor.state().then((state) => {
          metrics.governorFactor.set(state.factor);
          metrics.governorPenalties.set(state.penalties);
        }),
        caps.learned(now).then((learned) => {
          metrics.governorLearnedCap.reset();
          for (const { model, cap } of learned) metrics.governorLearnedCap.set({ model }, cap);
        }),
      ]);
    },
  });
  return {
    refresh: collector.refresh,
    async stop() {
      await collector.stop();
      await Promise.all(queues.map((queue) => queue.close()));
    },
  };
}
