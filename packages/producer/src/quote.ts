import {
  type EditJobData,
  type EditRequest,
  type EditResult,
  estimateCostMicroUsd,
  estimatedSurcharges,
  type ModelId,
  perImageMicroUsd,
  RunflowQueueError,
  utcDay,
  type WorkloadsConfig,
} from '@runflow-queue/shared';
import { type BudgetStatus, type BudgetStore, budgetStatuses, type EditQueue } from '@runflow-queue/store';

/** Run time assumed while the queue has no completed job to learn from (Runflow publishes none). */
export const DEFAULT_RUN_MS = 30_000;
/** The worker's default request rate (RUNFLOW_RATE_LIMIT_PER_SECOND) when no workloads config is given. */
const DEFAULT_REQUESTS_PER_SECOND = 20;
/** Recent completed jobs the run time and requests per job are learned from. */
const RECENT_SAMPLE = 100;

/** One request of a quote. Money in integer µUSD; times in ms from now. */
export interface QuoteLine {
  index: number;
  model: ModelId;
  /** Images requested: you pay per delivered image, so this is the most the request costs. */
  images: number;
  perImageMicroUsd: number;
  costMicroUsd: number;
  /** The parts of the price that are estimates (a surcharge Runflow does not document for the model). */
  estimates: string[];
  /** Running total up to and including this line. */
  cumulativeMicroUsd: number;
  /** Whether the budget admits the quote up to this line now; undefined when the queue has no budget. */
  admitted: boolean | undefined;
  /** When this line's result should be in. */
  etaMs: number;
  /** The code the job would fail with before any money moves (e.g. MODEL_NOT_ALLOWED); not in the total. */
  refusal?: string;
}

export interface QuoteWindow extends BudgetStatus {
  /** What would remain of the window after the quoted requests (negative: over by that much). */
  remainingAfterMicroUsd: number;
  admits: boolean;
}

export interface QuoteEta {
  /** Jobs before these in the queue (waiting, prioritized, active; parked jobs already have a run). */
  ahead: number;
  /** The queue's share of the account's request rate, in requests per second. */
  requestsPerSecond: number;
  /** Runflow requests per job: one create, plus the polls recent jobs needed. */
  requestsPerJob: number;
  /** Median submit → result of recent jobs, or DEFAULT_RUN_MS without any. */
  runMs: number;
  etaMs: number;
  doneAt: string;
  /** How each figure was arrived at. */
  basis: string[];
}

/** What a batch would cost, whether the budget admits it, and when it would be done. Nothing is enqueued. */
export interface Quote {
  queue: string;
  count: number;
  totalMicroUsd: number;
  /** True when any line's price has an estimated part. */
  estimated: boolean;
  /** undefined when the queue has no budget, or no workloads config was given. */
  budget: { admits: boolean; windows: QuoteWindow[] } | undefined;
  eta: QuoteEta;
  lines: QuoteLine[];
}

export interface QuoteContext {
  queue: EditQueue;
  queueName: string;
  /** Open another queue of the fleet (for the rate shares of busy queues); the caller closes nothing. */
  otherQueue: (name: string) => EditQueue;
  budgets: BudgetStore;
  workloads: WorkloadsConfig | undefined;
  now: number;
}

/**
 * Prices requests the way the ledger will book them (the price table, every requested image
 * delivered), checks them against the queue's budget windows, and estimates when they would be done
 * from the queue's position, its share of the rate limit and recent run times. Reads Redis only.
 */
export async function quoteRequests(ctx: QuoteContext, requests: readonly EditRequest[]): Promise<Quote> {
  const { queueName, workloads, now } = ctx;
  const workload = workloads?.queues.find((q) => q.name === queueName);
  if (workloads && !workload) {
    throw new RunflowQueueError(
      'UNKNOWN_QUEUE',
      `queue ${JSON.stringify(queueName)} is not in the workloads config; use one of: ${workloads.queues.map((q) => q.name).join(', ')}`,
    );
  }
  const day = utcDay(now);
  const priced = requests.map((request, index) => {
    const input = request.input as Record<string, unknown>;
    const refusal =
      workload && !workload.models.includes(request.model)
        ? `MODEL_NOT_ALLOWED: queue ${queueName} runs only ${workload.models.join(', ')}`
        : undefined;
    return {
      index,
      model: request.model,
      images: typeof input.num_images === 'number' ? input.num_images : 1,
      perImageMicroUsd: perImageMicroUsd(request.model, input, day),
      costMicroUsd: estimateCostMicroUsd(request.model, input, day),
      estimates: estimatedSurcharges(request.model, input, day),
      ...(refusal ? { refusal } : {}),
    };
  });

  const [budget, eta] = await Promise.all([
    workload?.budget ? ctx.budgets.usage(queueName, now).then((usage) => budgetStatuses(workload.budget, usage)) : [],
    estimateTiming(ctx, workload?.share ?? 1),
  ]);
  const remaining = budget.length > 0 ? Math.min(...budget.map((w) => w.remainingMicroUsd)) : undefined;

  const lines: QuoteLine[] = [];
  const perModel = new Map<ModelId, number>();
  let cumulative = 0;
  let paid = 0;
  for (const line of priced) {
    if (!line.refusal) {
      cumulative += line.costMicroUsd;
      paid += 1;
      perModel.set(line.model, (perModel.get(line.model) ?? 0) + 1);
    }
    lines.push({
      ...line,
      cumulativeMicroUsd: cumulative,
      admitted: remaining === undefined ? undefined : cumulative <= remaining,
      etaMs: finishMs(eta, paid, perModel, workloads),
    });
  }
  const windows = budget.map((w) => ({
    ...w,
    remainingAfterMicroUsd: w.remainingMicroUsd - cumulative,
    admits: cumulative <= w.remainingMicroUsd,
  }));
  const etaMs = finishMs(eta, paid, perModel, workloads);
  return {
    queue: queueName,
    count: requests.length,
    totalMicroUsd: cumulative,
    estimated: lines.some((line) => line.estimates.length > 0),
    budget: windows.length > 0 ? { admits: windows.every((w) => w.admits), windows } : undefined,
    eta: { ...eta, etaMs, doneAt: new Date(now + etaMs).toISOString() },
    lines,
  };
}

type Timing = Omit<QuoteEta, 'etaMs' | 'doneAt'>;

/** The queue's position, rate share, run time and requests per job, from Redis and the config. */
async function estimateTiming(ctx: QuoteContext, share: number): Promise<Timing> {
  const { queue, workloads } = ctx;
  const [counts, recent, busyShares] = await Promise.all([
    queue.getJobCounts('waiting', 'prioritized', 'active'),
    queue.getCompleted(0, RECENT_SAMPLE - 1),
    otherBusyShares(ctx),
  ]);
  const basis: string[] = [];
  const accountRate = workloads?.rateLimit.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND;
  const requestsPerSecond = (accountRate * share) / (share + busyShares);
  basis.push(
    workloads
      ? `rate ${accountRate}/s from the workloads config, this queue's share ${share} of ${share + busyShares} asking`
      : `rate ${DEFAULT_REQUESTS_PER_SECOND}/s assumed (the workers' default); give the workloads config for yours`,
  );
  const finished = recent.filter((job) => job?.returnvalue?.timings);
  const runTimes = finished
    .map((job) => job.returnvalue.timings.completedAt - job.returnvalue.timings.submittedAt)
    .sort((a, b) => a - b);
  const runMs = runTimes.length > 0 ? runTimes[Math.floor((runTimes.length - 1) / 2)] : DEFAULT_RUN_MS;
  const requestsPerJob =
    finished.length > 0
      ? finished.reduce((sum, job) => sum + requestsOf(job.data, job.returnvalue), 0) / finished.length
      : 1;
  basis.push(
    finished.length > 0
      ? `run time ${runMs} ms and ${requestsPerJob.toFixed(2)} requests per job: medians/means of the last ${finished.length} completed jobs`
      : `no completed jobs yet: run time ${DEFAULT_RUN_MS} ms and 1 request per job assumed`,
  );
  const ahead = counts.waiting + counts.prioritized + counts.active;
  return { ahead, requestsPerSecond, requestsPerJob, runMs, basis };
}

/** Runflow requests a finished job made: its create, the polls that found it running, and the last poll. */
function requestsOf(data: EditJobData, result: EditResult): number {
  return 1 + (data.polls ?? 0) + (result.completedBy === 'poll' ? 1 : 0);
}

/** The summed shares of the other queues of the config that have jobs waiting: they split the rate with this one. */
async function otherBusyShares(ctx: QuoteContext): Promise<number> {
  const others = ctx.workloads?.queues.filter((q) => q.name !== ctx.queueName) ?? [];
  const busy = await Promise.all(
    others.map(async (q) => {
      const counts = await ctx.otherQueue(q.name).getJobCounts('waiting', 'prioritized');
      return counts.waiting + counts.prioritized > 0 ? q.share : 0;
    }),
  );
  return busy.reduce((sum, share) => sum + share, 0);
}

/**
 * When the first `count` quoted jobs are done: submits paced by the queue's request rate (after the
 * jobs ahead), or by a model's in-flight cap when that is slower, plus one run time.
 */
function finishMs(
  timing: Timing,
  count: number,
  perModel: ReadonlyMap<ModelId, number>,
  workloads: WorkloadsConfig | undefined,
): number {
  const jobsPerSecond = timing.requestsPerSecond / timing.requestsPerJob;
  let submitSeconds = (timing.ahead + count) / jobsPerSecond;
  for (const [model, jobs] of perModel) {
    const cap = workloads?.models[model]?.maxInFlight;
    if (cap) submitSeconds = Math.max(submitSeconds, (jobs / cap) * (timing.runMs / 1000));
  }
  return Math.round(submitSeconds * 1000 + timing.runMs);
}
