import { estimateCostMicroUsd, formatMicroUsd, type QueuedJobData } from '@runflow-queue/shared';
import { usdToMicro } from '@runflow-queue/store';
import type { StepContext } from './step-context.ts';
import { fail, parkUntil, type Transition } from './transition.ts';

/** While a model is at its in-flight cap, the queue's workers stop pulling this long (short: finalizing
 * jobs of the same queue wait behind the pause too). */
const INFLIGHT_RECHECK_MS = 200;

/** Admitted, with the data to carry on with (its budget reservation recorded), or held / refused. */
export type Admission = { admitted: QueuedJobData } | { held: Transition };

/**
 * Admission, before any money moves: the model is allowed on this queue, the budget reserves the
 * estimated cost (or holds / fails the job per policy), and the model's in-flight cap (configured or
 * learned) has room.
 * Reservation and slot are idempotent per job, so a job that comes back keeps what it holds.
 */
export async function admitJob(ctx: StepContext<QueuedJobData>): Promise<Admission> {
  const { deps, jobId } = ctx;
  let { data } = ctx;
  const { workload } = deps.governance;
  if (!workload.models.includes(data.model)) {
    return {
      held: fail('MODEL_NOT_ALLOWED', `queue ${deps.queue} runs ${workload.models.join(', ')}, not ${data.model}`),
    };
  }

  if (workload.budget && !data.reservation) {
    const amount = estimateCostMicroUsd(data.model, data.input);
    const result = await deps.governance.budgets.reserve(deps.queue, jobId, amount, workload.budget, deps.now());
    if (!result.reserved) {
      const cap = result.window === 'day' ? workload.budget.dailyUsd : workload.budget.monthlyUsd;
      const message = `queue ${deps.queue} has spent or reserved its ${result.window === 'day' ? 'daily' : 'monthly'} budget of ${formatMicroUsd(usdToMicro(cap ?? 0))}; this job needs ${formatMicroUsd(amount)}`;
      if (workload.budget.policy === 'fail') return { held: fail('BUDGET_EXCEEDED', message) };
      ctx.log.info({ resetsAt: new Date(result.resetsAt).toISOString() }, `${message}; holding until the next window`);
      // Parked until the window opens: one move per job per window. Not a queue-wide pause — that would
      // also stop this queue's in-flight runs from being finalized when their results come in.
      return { held: parkUntil(result.resetsAt, 'budget window') };
    }
    data = { ...data, reservation: result.reservation };
  }

  // Every job holds a slot while its run may be in flight: under the configured cap, and under the cap
  // learned from Runflow's 429s (none until a 429 follows the runs in flight).
  const cap = deps.governance.modelCaps[data.model]?.maxInFlight;
  const held = await deps.governance.inflight.acquire(data.model, inflightMember(deps.queue, jobId), cap, deps.now());
  if (!held) {
    ctx.log.debug({ cap }, 'model at its in-flight cap; pausing this queue');
    return {
      held: parkUntil(deps.now() + INFLIGHT_RECHECK_MS, 'model in-flight cap', {
        data,
        pauseQueueMs: INFLIGHT_RECHECK_MS,
      }),
    };
  }
  return { admitted: data };
}

export function inflightMember(queue: string, jobId: string): string {
  return `${queue}/${jobId}`;
}
