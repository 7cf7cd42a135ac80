import { isRunflowApiError } from '@runflow-queue/runflow-client';
import { takePollSlot } from './admit-job.ts';
import { type JobContext, saveData } from './job-context.ts';
import { backoffMs } from './lifecycle-config.ts';

/** `found`: adopt it. `none`: no run, or Runflow cannot search by client_ref. `retry`: ask again later. */
export type RunLookup = { kind: 'found'; runId: string } | { kind: 'none' } | { kind: 'retry'; delayMs: number };

/**
 * After the grace period of an ambiguous submit, before paying for another run: does a run with this
 * job's clientRef exist on Runflow? Its callback may have been lost (or given up while ingest was down),
 * and a Runflow that ignores the Idempotency-Key would otherwise bill a second run. A lookup that fails
 * (5xx, 429, network) is asked again rather than guessed; after maxTransientErrors in a row — or when
 * Runflow refuses the client_ref filter (4xx) — the resubmit with the same Idempotency-Key goes ahead.
 */
export async function lookUpRun(ctx: JobContext, clientRef: string): Promise<RunLookup> {
  const { deps } = ctx;
  await takePollSlot(ctx);
  try {
    const runs = await deps.client.findRunsByClientRef(clientRef);
    if (ctx.data.transientErrors) await saveData(ctx, { transientErrors: 0 });
    // Newest first; the oldest is the one the first submit created.
    const first = runs.at(-1);
    return first ? { kind: 'found', runId: first.id } : { kind: 'none' };
  } catch (error) {
    if (!isRunflowApiError(error)) throw error;
    if (error.kind === 'permanent') {
      ctx.log.warn({ code: error.code, status: error.status }, 'Runflow cannot look runs up by client_ref');
      if (ctx.data.transientErrors) await saveData(ctx, { transientErrors: 0 });
      return { kind: 'none' };
    }
    if (error.status === 429) await deps.governance.governor.penalize(error.retryAfterMs);
    const failures = (ctx.data.transientErrors ?? 0) + 1;
    if (failures > deps.lifecycle.maxTransientErrors) {
      ctx.log.warn({ code: error.code, failures }, 'run lookup keeps failing; resubmitting with the same key');
      await saveData(ctx, { transientErrors: 0 });
      return { kind: 'none' };
    }
    await saveData(ctx, { transientErrors: failures });
    const delayMs = Math.max(
      error.retryAfterMs ?? 0,
      backoffMs(deps.lifecycle.transientBackoffMs, failures - 1, deps.lifecycle.maxTransientBackoffMs),
    );
    ctx.log.info({ code: error.code, status: error.status, delayMs }, 'run lookup failed (retryable); asking again');
    return { kind: 'retry', delayMs };
  }
}
