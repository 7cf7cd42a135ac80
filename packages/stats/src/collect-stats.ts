import { type EditJobData, type EditResult, failureCode, type WorkloadsConfig } from '@runflow-queue/shared';
import {
  type BudgetStatus,
  BudgetStore,
  budgetStatuses,
  CallbackInbox,
  InflightCaps,
  type LedgerRow,
  openQueue,
  type RedisClient,
  SpendLedger,
} from '@runflow-queue/store';
import type { Metrics, Queue } from 'bullmq';
import { percentile } from './percentile.ts';

/** How many recent finished jobs the latency percentiles and failure codes are computed from. */
const RECENT_SAMPLE = 500;

/** Everything an operator watches about one queue. Money in integer µUSD; times in ms. */
export interface QueueStats {
  queue: string;
  counts: { waiting: number; active: number; parked: number; completed: number; failed: number };
  /** Jobs finished per minute, oldest first, for the last 60 minutes (BullMQ metrics). */
  completedPerMinute: number[];
  failedPerMinute: number[];
  spend: {
    todayMicroUsd: number;
    monthMicroUsd: number;
    wasteMicroUsd: number;
    byModelToday: Record<string, number>;
    /** Per named caller (`-`: jobs without one): the ledger dimension of who enqueued. */
    byCaller: Record<string, { todayMicroUsd: number; monthMicroUsd: number }>;
  };
  budgets: BudgetStatus[];
  completions: { byCallback: number; byPoll: number };
  callbacks: { received: number; duplicate: number; unmatched: number };
  recent: {
    sampled: number;
    p50RunMs: number;
    p95RunMs: number;
    p50EndToEndMs: number;
    p95EndToEndMs: number;
    failuresByCode: Record<string, number>;
  };
}

export interface FleetStats {
  generatedAt: string;
  queues: QueueStats[];
  inflightByModel: Record<string, number>;
}

/**
 * Jobs finished per minute for the last 60 minutes, oldest first. BullMQ writes a minute's data point
 * lazily (at the first completion of a later minute), so the points since then are rebuilt from the
 * meta counters: `count - prevCount` finished since `prevTS`, zeros for the idle minutes after it.
 */
export function lastHour(metrics: Metrics, now: number): number[] {
  const minute = (ts: number) => Math.floor(ts / 60_000);
  const newestFirst: number[] = [];
  if (metrics.meta.prevTS > 0) {
    const idle = Math.max(0, minute(now) - minute(metrics.meta.prevTS));
    for (let i = 0; i < idle; i += 1) newestFirst.push(0);
    newestFirst.push(metrics.meta.count - metrics.meta.prevCount);
  }
  newestFirst.push(...metrics.data);
  const points = newestFirst.slice(0, 60);
  while (points.length < 60) points.push(0);
  return points.reverse();
}

/**
 * Collects what `pnpm stats` prints and the dashboard serves, from the same Redis state the workers
 * write: BullMQ counts and per-minute metrics, the spend ledger, budget windows, callback counters.
 */
export async function collectStats(
  redis: RedisClient,
  options: { prefix: string; queues?: readonly string[]; workloads?: WorkloadsConfig; now?: number },
): Promise<FleetStats> {
  const { prefix } = options;
  const now = options.now ?? Date.now();
  const ledger = new SpendLedger(redis, { prefix });
  const budgets = new BudgetStore(redis, { prefix });
  const inbox = new CallbackInbox(redis, { prefix });
  const names = options.queues ?? options.workloads?.queues.map((q) => q.name) ?? (await ledger.queues());
  const rows = await ledger.rows(names);
  const today = new Date(now).toISOString().slice(0, 10);
  const month = today.slice(0, 7);

  const queues: QueueStats[] = [];
  for (const name of names) {
    const queue = openQueue(redis, prefix, name);
    try {
      queues.push(
        await queueStats(
          queue,
          name,
          rows.filter((r) => r.queue === name),
          { budgets, inbox, options, today, month, now },
        ),
      );
    } finally {
      await queue.close();
    }
  }

  const inflight = new InflightCaps(redis, { prefix });
  const inflightByModel: Record<string, number> = {};
  for (const model of Object.keys(options.workloads?.models ?? {}))
    inflightByModel[model] = await inflight.count(model);
  return { generatedAt: new Date(now).toISOString(), queues, inflightByModel };
}

async function queueStats(
  queue: Queue<EditJobData, EditResult>,
  name: string,
  rows: LedgerRow[],
  ctx: {
    budgets: BudgetStore;
    inbox: CallbackInbox;
    options: { workloads?: WorkloadsConfig };
    today: string;
    month: string;
    now: number;
  },
): Promise<QueueStats> {
  const [counts, completedMetrics, failedMetrics, usage, callbacks, recentCompleted, recentFailed] = await Promise.all([
    queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'),
    queue.getMetrics('completed', 0, 59),
    queue.getMetrics('failed', 0, 59),
    ctx.budgets.usage(name, ctx.now),
    ctx.inbox.counters(name),
    queue.getCompleted(0, RECENT_SAMPLE - 1),
    queue.getFailed(0, RECENT_SAMPLE - 1),
  ]);

  const byModelToday: Record<string, number> = {};
  const byCaller: QueueStats['spend']['byCaller'] = {};
  let todayMicroUsd = 0;
  let monthMicroUsd = 0;
  let wasteMicroUsd = 0;
  let byCallback = 0;
  let byPoll = 0;
  for (const row of rows) {
    if (row.day === ctx.today) {
      todayMicroUsd += row.spendMicroUsd;
      byModelToday[row.model] = (byModelToday[row.model] ?? 0) + row.spendMicroUsd;
    }
    if (row.day.startsWith(ctx.month)) monthMicroUsd += row.spendMicroUsd;
    const caller = byCaller[row.caller] ?? { todayMicroUsd: 0, monthMicroUsd: 0 };
    byCaller[row.caller] = caller;
    if (row.day === ctx.today) caller.todayMicroUsd += row.spendMicroUsd;
    if (row.day.startsWith(ctx.month)) caller.monthMicroUsd += row.spendMicroUsd;
    wasteMicroUsd += row.wasteMicroUsd;
    byCallback += row.byCallback;
    byPoll += row.byPoll;
  }

  const budgets = budgetStatuses(ctx.options.workloads?.queues.find((q) => q.name === name)?.budget, usage);

  const runMs = recentCompleted
    .map((job) => job.returnvalue?.timings)
    .filter((t) => t !== undefined)
    .map((t) => t.completedAt - t.submittedAt)
    .sort((a, b) => a - b);
  const endToEndMs = recentCompleted.map((job) => (job.finishedOn ?? 0) - job.timestamp).sort((a, b) => a - b);
  const failuresByCode: Record<string, number> = {};
  for (const job of recentFailed) {
    const code = failureCode(job.failedReason) ?? 'UNCODED';
    failuresByCode[code] = (failuresByCode[code] ?? 0) + 1;
  }

  return {
    queue: name,
    counts: {
      waiting: counts.waiting + counts.prioritized,
      active: counts.active,
      parked: counts.delayed,
      completed: counts.completed,
      failed: counts.failed,
    },
    completedPerMinute: lastHour(completedMetrics, ctx.now),
    failedPerMinute: lastHour(failedMetrics, ctx.now),
    spend: { todayMicroUsd, monthMicroUsd, wasteMicroUsd, byModelToday, byCaller },
    budgets,
    completions: { byCallback, byPoll },
    callbacks,
    recent: {
      sampled: recentCompleted.length + recentFailed.length,
      p50RunMs: percentile(runMs, 50),
      p95RunMs: percentile(runMs, 95),
      p50EndToEndMs: percentile(endToEndMs, 50),
      p95EndToEndMs: percentile(endToEndMs, 95),
      failuresByCode,
    },
  };
}
