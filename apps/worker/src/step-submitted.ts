import { isRunflowApiError } from '@runflow-queue/runflow-client';
import { isTerminalStatus, type SubmittedJobData } from '@runflow-queue/shared';
import { noteCallbackReceived } from './callback-timing.ts';
import { runOwnerMismatch } from './check-run-owner.ts';
import { backoffMs } from './lifecycle-config.ts';
import { takeRequestSlot } from './request-slot.ts';
import { settleRun } from './settle-run.ts';
import type { StepContext } from './step-context.ts';
import { fail, parkUntil, type Transition } from './transition.ts';

/**
 * Step `submitted`: the job woke (promoted by a callback, or its poll time came). Inbox first; else
 * poll; still running → park again with backoff; past the hard deadline → fail with a code.
 */
export async function submittedStep(ctx: StepContext<SubmittedJobData>): Promise<Transition> {
  const { deps, data } = ctx;
  const { runId } = data;
  const entry = await deps.inbox.read(deps.queue, runId);
  if (entry) {
    const p = entry.payload;
    const notOurs = runOwnerMismatch(p.metadata, { queue: deps.queue, jobId: ctx.jobId, data });
    if (notOurs) return refuseForeignRun(ctx, notOurs);
    const settled = await settleRun(
      ctx,
      {
        status: p.status,
        output: p.output,
        cost: p.cost,
        completedAt: p.completed_at,
        durationMs: p.duration_ms,
        failure: { output: p.output },
      },
      'callback',
    );
    if (settled.kind === 'complete') noteCallbackReceived(settled.result, entry.receivedAt);
    return settled;
  }

  // While the breaker is open nobody asks Runflow: the job waits, its polls unused, and its deadline
  // moves out by the time the breaker stays open (below).
  if (deps.holds?.breakerOpen()) {
    deps.holds.parked(deps.queue, 'breaker');
    return parkUntil(deps.holds.recheckAt(deps.now()), 'hold: breaker');
  }
  // A poll slot further out: the job simply stays parked a little longer (no queue-wide pause).
  const slot = await takeRequestSlot(ctx);
  if (slot) return parkUntil(deps.now() + slot.waitMs, 'poll slot');
  const now = deps.now();
  let answered = false;
  try {
    const run = await deps.client.getRun(runId);
    answered = true;
    await deps.holds?.observe(undefined);
    const notOurs = runOwnerMismatch(run.metadata, { queue: deps.queue, jobId: ctx.jobId, data });
    if (notOurs) return refuseForeignRun(ctx, notOurs);
    if (isTerminalStatus(run.status_code)) {
      return settleRun(
        ctx,
        {
          status: run.status_code,
          output: run.output,
          cost: run.cost,
          completedAt: run.completed_at,
          durationMs: run.duration_ms,
          failure: run,
        },
        'poll',
      );
    }
  } catch (error) {
    if (!isRunflowApiError(error)) throw error;
    await deps.holds?.observe(error);
    if (error.kind === 'permanent') return fail(error.code, `polling run ${runId}: ${error.message}`);
    if (error.status === 429) {
      // A GET is never under a model's cap: the rate limit (and evidence for the creates' 429s).
      await deps.governance.inflight.limited(undefined, ctx.jobId, deps.now());
      await deps.governance.governor.penalize(error.retryAfterMs);
    }
    ctx.log.info({ code: error.code, status: error.status }, 'poll failed (retryable); will poll again');
  }

  const deadlineAt = effectiveDeadline(ctx, now);
  // Invariant 9: the deadline fails a run only on a poll that Runflow answered (still not terminal).
  // A poll that failed says nothing about the run: poll again, however late it is.
  if (now >= deadlineAt && answered) {
    return fail(
      'RUN_DEADLINE_EXCEEDED',
      `run ${runId} had no terminal result by ${new Date(deadlineAt).toISOString()}`,
    );
  }
  const polls = (data.polls ?? 0) + 1;
  const wait = backoffMs(deps.lifecycle.pollIntervalMs, polls - 1, deps.lifecycle.maxPollIntervalMs);
  const wakeAt = now >= deadlineAt ? now + wait : Math.min(now + wait, deadlineAt);
  return parkUntil(wakeAt, 'polling', { data: { ...data, polls } });
}

/**
 * The run's hard deadline, moved out by however long the account's breaker has been open since the
 * run was submitted: a run is not declared dead because we could not ask about it.
 */
export function effectiveDeadline(ctx: StepContext<SubmittedJobData>, now: number): number {
  const { data, deps } = ctx;
  const base = data.deadlineAt ?? now;
  const openNow = deps.holds?.breakerOpenTotalMs();
  if (openNow === undefined || data.breakerOpenMsAtSubmit === undefined) return base;
  return base + Math.max(0, openNow - data.breakerOpenMsAtSubmit);
}

/** The run is another job's: its result is not adopted and not settled here (its own job settles it). */
function refuseForeignRun(ctx: StepContext<SubmittedJobData>, differs: string): Transition {
  ctx.log.warn({ differs }, 'run belongs to another job: not adopted');
  return fail('RUN_NOT_THIS_JOB', `run ${ctx.data.runId} is not this job's (${differs}); its result is not adopted`);
}
