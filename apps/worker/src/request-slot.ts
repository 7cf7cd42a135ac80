import { setTimeout as sleep } from 'node:timers/promises';
import type { StepContext } from './step-context.ts';

/** A reserved request slot may be up to this far ahead; the job waits for it in-process. */
const MAX_SLOT_DELAY_MS = 1_000;

/**
 * One request slot from the fleet-wide governor, for a create, a poll or a look-up. A slot within
 * MAX_SLOT_DELAY_MS is reserved and waited for here (pacing exact, no Redis churn): resolves
 * `undefined`. Further out, resolves how long to wait, and the caller parks the job (for a submit,
 * also stopping the queue's workers from pulling that long). Parking, not BullMQ's RateLimitError:
 * BullMQ 6 pushes a rate-limited prioritized job back without a wake-up marker, so an idle worker
 * would sleep through its block timeout (seen: 5 s stalls).
 */
export async function takeRequestSlot(ctx: StepContext): Promise<{ waitMs: number } | undefined> {
  const { deps } = ctx;
  const decision = await deps.governance.governor.acquire(
    deps.queue,
    deps.governance.workload.share,
    MAX_SLOT_DELAY_MS,
  );
  if (!decision.granted) return { waitMs: decision.waitMs };
  if (decision.delayMs > 0) await sleep(decision.delayMs);
  return undefined;
}
