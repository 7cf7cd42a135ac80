import {
  type DashboardMetrics,
  type PeriodicCollector,
  readQueueDepth,
  setBudgetGauges,
  setQueueDepth,
  startPeriodicCollector,
} from '@runflow-queue/metrics';
import type { WorkloadsConfig } from '@runflow-queue/shared';
import { type AccountHealth, collectStats } from '@runflow-queue/stats';
import { type RedisClient, SpendLedger } from '@runflow-queue/store';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { setHoldGauges } from './holds-routes.ts';

/**
 * The dashboard's gauges, refreshed on a timer (never on the scrape path): queue depth per state — so
 * "jobs wait and no worker is up" is visible even when no worker exports it — and, from collectStats
 * (the numbers of `pnpm stats` and /spend), the ledger's spend and the budgets' remaining per window.
 */
export function startDashboardCollector(options: {
  redis: RedisClient;
  prefix: string;
  queues: ReadonlyMap<string, Queue>;
  workloads?: WorkloadsConfig;
  metrics: DashboardMetrics;
  logger: Logger;
  intervalMs: number;
  /** The account's health (holds), when the dashboard knows the account. */
  health?: () => Promise<AccountHealth | undefined>;
}): PeriodicCollector {
  const { metrics } = options;
  return startPeriodicCollector({
    intervalMs: options.intervalMs,
    onError: (error) => {
      metrics.collectErrors.inc();
      options.logger.warn({ err: error }, 'metrics collection failed; keeping the last values');
    },
    collect: async () => {
      await Promise.all(
        [...options.queues].map(async ([name, queue]) =>
          setQueueDepth(metrics.queueJobs, name, await readQueueDepth(queue)),
        ),
      );
      const stats = await collectStats(options.redis, {
        prefix: options.prefix,
        queues: [...options.queues.keys()],
        workloads: options.workloads,
      });
      for (const q of stats.queues) {
        metrics.ledgerSpend.set({ queue: q.queue, window: 'day' }, q.spend.todayMicroUsd);
        metrics.ledgerSpend.set({ queue: q.queue, window: 'month' }, q.spend.monthMicroUsd);
        metrics.ledgerWaste.set({ queue: q.queue }, q.spend.wasteMicroUsd);
        for (const [caller, spend] of Object.entries(q.spend.byCaller)) {
          metrics.ledgerCallerSpend.set({ queue: q.queue, caller, window: 'day' }, spend.todayMicroUsd);
          metrics.ledgerCallerSpend.set({ queue: q.queue, caller, window: 'month' }, spend.monthMicroUsd);
        }
        setBudgetGauges(metrics, q.queue, q.budgets);
      }
      const unconfirmed = await new SpendLedger(options.redis, { prefix: options.prefix }).unconfirmedSummary();
      metrics.spendUnconfirmedRuns.set(unconfirmed.count);
      metrics.spendOldestUnconfirmedSeconds.set(
        unconfirmed.oldestSettledAtMs === undefined
          ? 0
          : Math.max(0, (Date.now() - unconfirmed.oldestSettledAtMs) / 1000),
      );
      if (options.health) setHoldGauges(metrics, await options.health());
    },
  });
}
