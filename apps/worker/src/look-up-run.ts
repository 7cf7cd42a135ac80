import { isRunflowApiError } from '@runflow-queue/runflow-client';
import type { SubmittingJobData } from '@runflow-queue/shared';
import { backoffMs } from './lifecycle-config.ts';
import type { StepContext } from './step-context.ts';

/**
 * `found`: adopt it. `none`: no run, or Runflow cannot search by client_ref. `retry`: ask again later.
 * Each carries the job's data with its look-up failure count brought up to date.
 */
export type RunLookup =
  | { kind: 'found'; runId: string; data: SubmittingJobData }
  | { kind: 'none'; data: SubmittingJobData }
  | { kind: 'retry'; delayMs: number; data: SubmittingJobData };

/**
 * After the grace period of an ambiguous submit, before paying for another run: does a run with this
 * job's clientRef exist on Runflow? Its callback may have been lost (or given up while ingest was down),
 * and a Runflow that ignores the Idempotency-Key would otherwise bill a second run. A look-up that fails
 * (5xx, 429, network) is asked again rather than guessed; after maxTransientErrors in a row — or when
 * Runflow refuses the client_ref filter (4xx) — the resubmit with the same Idempotency-Key goes ahead.
 * The caller has taken the request slot.
 */
export async function lookUpRun(ctx: StepContext<SubmittingJobData>): Promise<RunLookup> {
  const { deps, data } = ctx;
  const reset = data.transientErrors ? { ...data, transientErrors: 0 } : data;
  try {
    const runs = await deps.client.findRunsByClientRef(data.clientRef);
    await deps.holds?.observe(undefined);
    // Newest first; the oldest is the one the first submit created.
    const first = runs.at(-1);
    return first ? { kind: 'found', runId: first.id, data: reset } : { kind: 'none', data: reset };
  } catch (error) {
    if (!isRunflowApiError(error)) throw error;
    await deps.holds?.observe(error);
    if (error.kind === 'permanent') {
      ctx.log.warn({ code: error.code, status: error.status }, 'Runflow cannot look runs up by client_ref');
      return { kind: 'none', data: reset };
    }
    if (error.status === 429) {
      // A search is never under a model's cap: the rate limit (and evidence for the creates' 429s).
      await deps.governance.inflight.limited(undefined, ctx.jobId, deps.now());
      await deps.governance.governor.penalize(error.retryAfterMs);
    }
    const failures = (data.transientErrors ?? 0) + 1;
    if (failures > deps.lifecycle.maxTransientErrors) {
      ctx.log.warn({ code: error.code, failures }, 'run lookup keeps failing; resubmitting with the same key');
      return { kind: 'none', data: reset };
    }
    const delayMs = Math.max(
      error.retryAfterMs ?? 0,
      backoffMs(deps.lifecycle.transientBackoffMs, failures - 1, deps.lifecycle.maxTransientBackoffMs),
    );
    ctx.log.info({ code: error.code, status: error.status, delayMs }, 'run lookup failed (retryable); asking again');
    return { kind: 'retry', delayMs, data: { ...data, transientErrors: failures } };
  }
}
