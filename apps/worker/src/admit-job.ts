import { setTimeout as sleep } from 'node:timers/promises';
import { estimateCostMicroUsd, formatMicroUsd, type ModelId } from '@runflow-queue/shared';
import { usdToMicro } from '@runflow-queue/store';
import { type JobContext, park, saveData } from './job-context.ts';
import { failJob } from './job-failure.ts';

/** While a model is at its in-flight cap, the queue's workers stop pulling this long (short: finalizing
 * jobs of the same queue wait behind the pause too). */
const INFLIGHT_RECHECK_MS = 200;

/**
 * Admission, before any money moves: the model is allowed on this queue, the budget reserves the
 * estimated cost (or holds / fails the job per policy), and the model's in-flight cap has room.
 * Reservation and slot are idempotent per job, so a job that comes back keeps what it holds.
 */
export async function admitJob(ctx: JobContext): Promise<void> {
  const { deps, data, job } = ctx;
  const { workload } = deps.governance;
  if (!workload.models.includes(data.model)) {
    throw failJob('MODEL_NOT_ALLOWED', `queue ${deps.queue} runs ${workload.models.join(', ')}, not ${data.model}`);
  }

  if (workload.budget && !data.reservation) {
    const amount = estimateCostMicroUsd(data.model as ModelId, data.input);
    const result = await deps.governance.budgets.reserve(
      deps.queue,
      job.id as string,
      amount,
      workload.budget,
      deps.now(),
    );
    if (!result.reserved) {
      const cap = result.window === 'day' ? workload.budget.dailyUsd : workload.budget.monthlyUsd;
      const message = `queue ${deps.queue} has spent or reserved its ${result.window === 'day' ? 'daily' : 'monthly'} budget of ${formatMicroUsd(usdToMicro(cap ?? 0))}; this job needs ${formatMicroUsd(amount)}`;
      if (workload.budget.policy === 'fail') throw failJob('BUDGET_EXCEEDED', message);
      ctx.log.info({ resetsAt: new Date(result.resetsAt).toISOString() }, `${message}; holding until the next window`);
      // Parked until the window opens: one move per job per window. Not a queue-wide pause — that would
      // also stop this queue's in-flight runs from being finalized when their results come in.
      return park(ctx, result.resetsAt);
    }
    await saveData(ctx, { reservation: result.reservation });
  }

  const cap = deps.governance.modelCaps[data.model]?.maxInFlight;
  if (cap !== undefined) {
    const held = await deps.governance.inflight.acquire(data.model, inflightMember(ctx), cap, deps.now());
    if (!held) {
      ctx.log.debug({ cap }, 'model at its in-flight cap; pausing this queue');
      return pauseQueueAndPark(ctx, INFLIGHT_RECHECK_MS);
    }
  }
}

/** A reserved request slot may be up to this far ahead; the job waits for it in-process. */
const MAX_SLOT_DELAY_MS = 1_000;

/**
 * One request slot from the fleet-wide governor. A slot within MAX_SLOT_DELAY_MS is reserved and the
 * job waits for it here (pacing exact, no Redis churn). Further out, the queue's workers stop pulling
 * for that long (BullMQ's manual rate limit) and this job parks for the same time. Parking, not
 * BullMQ's RateLimitError: BullMQ 6 pushes a rate-limited prioritized job back without a wake-up
 * marker, so an idle worker would sleep through its block timeout (seen: 5 s stalls).
 */
export async function takeRequestSlot(ctx: JobContext): Promise<void> {
  const { deps } = ctx;
  const decision = await deps.governance.governor.acquire(
    deps.queue,
    deps.governance.workload.share,
    MAX_SLOT_DELAY_MS,
  );
  if (!decision.granted) return pauseQueueAndPark(ctx, decision.waitMs);
  if (decision.delayMs > 0) await sleep(decision.delayMs);
}

async function pauseQueueAndPark(ctx: JobContext, ms: number): Promise<never> {
  await ctx.deps.governance.rateLimitQueue(ms);
  return park(ctx, ctx.deps.now() + ms);
}

/** A request slot for a poll: when it is further out, the job simply stays parked a little longer. */
export async function takePollSlot(ctx: JobContext): Promise<void> {
  const { deps } = ctx;
  const decision = await deps.governance.governor.acquire(
    deps.queue,
    deps.governance.workload.share,
    MAX_SLOT_DELAY_MS,
  );
  if (!decision.granted) await park(ctx, deps.now() + decision.waitMs);
  else if (decision.delayMs > 0) await sleep(decision.delayMs);
}

export function inflightMember(ctx: JobContext): string {
  return `${ctx.deps.queue}/${ctx.job.id}`;
}

/** Gives back what a job held (budget reservation, in-flight slot) when it ends. Idempotent. */
export async function releaseHolds(ctx: JobContext): Promise<void> {
  const { deps, data } = ctx;
  const tasks: Promise<unknown>[] = [];
  if (data.reservation) tasks.push(deps.governance.budgets.release(deps.queue, ctx.job.id as string, data.reservation));
  if (deps.governance.modelCaps[data.model])
    tasks.push(deps.governance.inflight.release(data.model, inflightMember(ctx)));
  await Promise.all(tasks);
}
