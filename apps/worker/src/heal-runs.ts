import { isRunflowApiError } from '@runflow-queue/runflow-client';
import {
  type EditJobData,
  isModelId,
  isSuccessStatus,
  isTerminalStatus,
  priceTerminalRun,
  type Run,
} from '@runflow-queue/shared';
import { recordsKeyOf, spendKeys } from '@runflow-queue/store';
import { type ReconcileDeps, reconcilerSlot } from './reconcile-deps.ts';

const PAGE = 500;
/** Pages per pass: catching up after a long outage is spread over passes (the lease stays renewed). */
const MAX_PAGES = 20;

export interface HealPass {
  /** Runs Runflow billed that the ledger lacked, booked now. */
  healed: number;
  healedMicroUsd: number;
  /** Terminal runs whose job may still settle them (left for the job). */
  leftToJobs: number;
  /** Runs without our metadata (another application on the account): never booked. */
  foreign: number;
  requests: number;
}

/**
 * Finds runs that Runflow billed and the ledger lacks — a settle lost with Redis's last second, an
 * orphan whose callback never came — in Runflow's run list, from the heal cursor up to `untilMs`
 * (runs younger than the heal lag are left to their jobs), and books each with Runflow's cost. The run
 * is ours when its metadata (or our run index) names one of our queues; its job, when Redis still has
 * it, gives the cost center and caller. The cursor stops before the first run still in progress (or
 * whose job is still going), so the next pass looks at it again. The cursor is written after the
 * records it read: an AOF that loses its last second loses a suffix of writes, so a settle that is
 * lost takes the cursor moves made after it along, and the next pass sees its run again.
 */
export async function healRuns(deps: ReconcileDeps, lookbackMs: number, untilMs: number): Promise<HealPass> {
  const pass: HealPass = { healed: 0, healedMicroUsd: 0, leftToJobs: 0, foreign: 0, requests: 0 };
  const cursorKey = spendKeys(deps.prefix).healCursor;
  const stored = Number(await deps.redis.get(cursorKey));
  const from = Number.isFinite(stored) && stored > 0 ? stored : untilMs - lookbackMs;
  if (from >= untilMs) return pass;
  let blockedAt: number | undefined;
  let cursor: string | null = null;
  let complete = false;
  let lastSeen: number | undefined;
  let pages = 0;
  do {
    if (pages >= MAX_PAGES) break;
    pages += 1;
    if (!(await reconcilerSlot(deps))) break;
    pass.requests += 1;
    try {
      const page = await deps.client.listRuns({ createdFromMs: from, createdToMs: untilMs, limit: PAGE, cursor });
      const settled = await deps.records.settled(
        page.runs.map((run) => run.id),
        (id) => recordsKeyOf(deps.prefix, id),
      );
      for (const run of page.runs) {
        if (settled.has(run.id) || (await settledByEarlierDeploy(deps, run))) continue;
        const outcome = await healRun(deps, run, pass);
        if (outcome === 'wait') blockedAt = Math.min(blockedAt ?? Number.POSITIVE_INFINITY, createdMs(run, from));
      }
      const last = page.runs.at(-1);
      if (last) lastSeen = createdMs(last, from);
      cursor = page.next;
      complete = cursor === null;
    } catch (error) {
      if (!isRunflowApiError(error)) throw error;
      if (error.status === 429) await deps.governor.penalize(error.retryAfterMs);
      deps.logger.info({ code: error.code, status: error.status }, 'spend reconciler: run list failed');
      break;
    }
  } while (cursor);
  // Up to the first run left waiting; else the whole window, or as far as the pages got (same-ms
  // runs at the page edge are looked at again: settle-once makes that harmless).
  const reached = blockedAt ?? (complete ? untilMs : lastSeen);
  if (reached !== undefined && reached > from) await deps.redis.set(cursorKey, String(reached));
  return pass;
}

function createdMs(run: Run, fallback: number): number {
  const ms = run.created_at ? Date.parse(run.created_at) : Number.NaN;
  return Number.isFinite(ms) ? ms : fallback;
}

/** `wait`: leave it (not terminal, or its job is still going); else it was booked or is not ours. */
async function healRun(deps: ReconcileDeps, run: Run, pass: HealPass): Promise<'wait' | 'done'> {
  if (!isTerminalStatus(run.status_code)) return 'wait';
  const meta = (run.metadata ?? {}) as { queue?: unknown; jobId?: unknown };
  const queueName = typeof meta.queue === 'string' ? meta.queue : undefined;
  const queue = queueName ? deps.queue(queueName) : undefined;
  if (!queueName || !queue) {
    pass.foreign += 1;
    return 'done';
  }
  const jobId = typeof meta.jobId === 'string' ? meta.jobId : await deps.runIndex.jobOf(queueName, run.id);
  const job = jobId ? await queue.getJob(jobId) : undefined;
  // Its job may still settle it (parked, waiting for this run, or about to adopt it): not lacking yet.
  if (job && job.finishedOn === undefined) {
    pass.leftToJobs += 1;
    return 'wait';
  }
  const data: Partial<EditJobData> = job?.data ?? {};
  // The job's own data first; for a job Redis lost, the model Runflow's record names (by uuid). Its cost
  // center and caller are lost with it: the run is booked without them.
  const learnt = isModelId(data.model) ? undefined : await deps.modelIds.slugOf(run.model_id);
  const model = isModelId(data.model) ? data.model : isModelId(learnt) ? learnt : undefined;
  const costCenter = data.tags?.costCenter;
  const caller = data.caller;
  // Kept: the job ended with this run (completed with its result, or failed by it); else it is waste.
  const kept =
    job !== undefined &&
    (job.returnvalue?.runId === run.id ||
      (data.runId === run.id && job.failedReason !== undefined && isFailedByRun(job.failedReason)));
  const cost = model
    ? priceTerminalRun(model, data.input ?? runInput(run), {
        status: run.status_code,
        output: run.output,
        cost: run.cost,
        completedAt: run.completed_at,
      })
    : undefined;
  if (!cost) {
    // Without its job we cannot name the model nor price a record that carries no cost.
    deps.logger.warn({ runId: run.id, queue: queueName, jobId }, 'spend reconciler: a billed run cannot be priced');
    return 'done';
  }
  // A run no job kept that cost nothing is not waste: nothing to book.
  if (!kept && cost.costMicroUsd === 0) return 'done';
  const settledNow = await deps.ledger.settle({
    queue: queueName,
    runId: run.id,
    jobId,
    model: model as string,
    day: cost.day,
    costCenter,
    caller,
    outcome: kept ? (isSuccessStatus(run.status_code) ? 'completed' : 'failed') : 'waste',
    images: cost.images,
    costMicroUsd: cost.costMicroUsd,
    estimatedMicroUsd: cost.estimatedMicroUsd,
    state: cost.pricing.source === 'provider' ? 'confirmed' : 'table',
    completedBy: 'poll',
    path: kept ? 'healed' : 'orphan',
    pricing: cost.pricing,
    settledAtMs: deps.now(),
  });
  if (settledNow && cost.costMicroUsd > 0) {
    pass.healed += 1;
    pass.healedMicroUsd += cost.costMicroUsd;
    deps.logger.warn(
      { runId: run.id, queue: queueName, jobId, costMicroUsd: cost.costMicroUsd, kept },
      'spend reconciler: booked a run Runflow billed that the ledger lacked',
    );
  }
  return 'done';
}

/** A job failed by its run's own outcome (its run ended failed or cancelled), not by a deadline. */
function isFailedByRun(reason: string): boolean {
  return reason.startsWith('RUN_FAILED') || reason.startsWith('RUN_CANCELLED') || reason.startsWith('JOB_ABANDONED');
}

/** Runflow echoes the input on the run: what prices a run whose job is gone. */
function runInput(run: Run): Record<string, unknown> {
  const input = (run as { input?: unknown }).input;
  return typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
}

/** The deploy before this one settled runs with a per-queue marker (kept 8 days): those are settled. */
async function settledByEarlierDeploy(deps: ReconcileDeps, run: Run): Promise<boolean> {
  const queue = (run.metadata as { queue?: unknown } | null | undefined)?.queue;
  return typeof queue === 'string' && (await deps.ledger.legacyRecord(queue, run.id)) !== undefined;
}
