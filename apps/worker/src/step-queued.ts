import { randomUUID } from 'node:crypto';
import type { QueuedJobData } from '@runflow-queue/shared';
import { admitJob } from './admit-job.ts';
import { takeRequestSlot } from './request-slot.ts';
import type { StepContext } from './step-context.ts';
import { fail, next, parkUntil, type Transition } from './transition.ts';

/**
 * Step `queued`: admit (model, budget, in-flight cap), take a request slot, then record the intent to
 * submit — step `submitting` with a clientRef — which the loop saves BEFORE the POST is sent. A job
 * sent back to `queued` by a retryable error keeps its clientRef, so its retry carries the same
 * Idempotency-Key.
 */
export async function queuedStep(ctx: StepContext<QueuedJobData>): Promise<Transition> {
  // Cancelled between the caller's mark and its removal: nothing was submitted, nothing is paid.
  if (ctx.data.abandoned) return fail('JOB_ABANDONED', 'cancelled by the caller before submit');
  // A hold (breaker open, credit spent, an operator's pause) stops submits before anything is reserved:
  // the job parks and looks again, using no attempt and none of its retries.
  const hold = ctx.deps.holds?.submitHold(ctx.deps.queue);
  if (hold) {
    ctx.deps.holds?.parked(ctx.deps.queue, hold.kind);
    ctx.log.debug({ hold: hold.kind }, hold.reason);
    return parkUntil(ctx.deps.holds?.recheckAt(ctx.deps.now()) ?? ctx.deps.now(), `hold: ${hold.kind}`);
  }
  const admission = await admitJob(ctx);
  if ('held' in admission) return admission.held;
  const data = admission.admitted;
  const slot = await takeRequestSlot(ctx);
  if (slot) {
    return parkUntil(ctx.deps.now() + slot.waitMs, 'rate limit', { data, pauseQueueMs: slot.waitMs });
  }
  return next({ ...data, step: 'submitting', clientRef: data.clientRef ?? `rq_${randomUUID()}` });
}
