import { randomUUID } from 'node:crypto';
import { isRunflowApiError, type RunflowApiError } from '@runflow-queue/runflow-client';
import type { EditResult, ModelId } from '@runflow-queue/shared';
import { takeRequestSlot } from './admit-job.ts';
import { finalizeRun } from './finalize-run.ts';
import { type JobContext, park, saveData } from './job-context.ts';
import { failJob } from './job-failure.ts';
import { backoffMs } from './lifecycle-config.ts';
import { lookUpRun } from './look-up-run.ts';

/**
 * Submit: record intent (step `submitting` with a clientRef) BEFORE the POST, send the clientRef as
 * client_ref, metadata.clientRef and Idempotency-Key, then record the run id and park.
 */
export async function submitRun(ctx: JobContext): Promise<EditResult> {
  const { job, deps } = ctx;
  await takeRequestSlot(ctx);
  const clientRef = ctx.data.clientRef ?? `rq_${randomUUID()}`;
  await saveData(ctx, { step: 'submitting', clientRef });
  const started = deps.now();
  let runId: string;
  try {
    const run = await deps.client.createRun(
      ctx.data.model as ModelId,
      {
        input: ctx.data.input,
        callback_url: deps.lifecycle.callbackUrl ?? null,
        metadata: { queue: deps.queue, jobId: job.id as string, clientRef },
        client_ref: clientRef,
      },
      { idempotencyKey: clientRef },
    );
    runId = run.id;
  } catch (error) {
    if (!isRunflowApiError(error)) throw error;
    return handleSubmitError(ctx, error);
  }
  ctx.log.info({ runId, submitMs: deps.now() - started }, 'run submitted');
  return recordRun(ctx, runId);
}

/** The run exists: remember it in the job and the run index, then park until its result. */
export async function recordRun(ctx: JobContext, runId: string): Promise<never> {
  const { deps } = ctx;
  const now = deps.now();
  await saveData(ctx, {
    step: 'submitted',
    runId,
    submittedAt: ctx.data.submittedAt ?? now,
    deadlineAt: ctx.data.deadlineAt ?? now + deps.governance.workload.deadlineMs,
    transientErrors: 0,
  });
  await Promise.all([deps.runIndex.record(deps.queue, runId, ctx.job.id as string), wakeFirst(ctx)]);
  return park(ctx, now + deps.lifecycle.firstPollDelayMs);
}

/**
 * A job with a run on Runflow goes to priority 0: BullMQ serves priority-0 (plain wait list) jobs
 * before prioritized ones, and the producer enqueues every new job with a priority, so when this job
 * wakes (promoted by its callback, or its poll is due) it is finalized ahead of any backlog of submits.
 */
async function wakeFirst(ctx: JobContext): Promise<void> {
  if (ctx.job.priority !== 0) await ctx.job.changePriority({ priority: 0 });
}

async function handleSubmitError(ctx: JobContext, error: RunflowApiError): Promise<never> {
  const { deps } = ctx;
  const now = deps.now();
  if (error.kind === 'permanent') {
    ctx.log.warn({ code: error.code, status: error.status }, 'Runflow rejected the run');
    throw failJob(error.code, error.message);
  }
  if (error.kind === 'ambiguous') {
    // The POST may have created a run: keep step `submitting` and give its callback a grace period
    // to arrive (matched by clientRef) before resubmitting with the same Idempotency-Key.
    ctx.log.warn({ code: error.code }, 'submit was ambiguous; waiting for the run to show up');
    await saveData(ctx, { ambiguousSince: ctx.data.ambiguousSince ?? now });
    return park(ctx, now + deps.lifecycle.ambiguousGraceMs);
  }
  if (error.status === 429) return backOffRateLimited(ctx, error);
  const transientErrors = (ctx.data.transientErrors ?? 0) + 1;
  if (transientErrors > deps.lifecycle.maxTransientErrors) {
    throw failJob('RUNFLOW_RETRIES_EXHAUSTED', `${transientErrors} retryable errors in a row; last: ${error.message}`);
  }
  const delayMs = Math.max(
    error.retryAfterMs ?? 0,
    backoffMs(deps.lifecycle.transientBackoffMs, transientErrors - 1, deps.lifecycle.maxTransientBackoffMs),
  );
  ctx.log.info(
    { code: error.code, status: error.status, delayMs, transientErrors },
    'retryable submit error; backing off',
  );
  // Runflow did not create a run: back to `queued`. The clientRef stays, so the retry carries the
  // same Idempotency-Key. Backing off by parking does not burn a BullMQ attempt.
  await saveData(ctx, { step: 'queued', transientErrors });
  return park(ctx, now + delayMs);
}

/**
 * A 429 slows the whole fleet (the governor's rate halves, and stops until Retry-After when given);
 * this job parks without burning an attempt. The guard keeps a job from looping forever.
 */
async function backOffRateLimited(ctx: JobContext, error: RunflowApiError): Promise<never> {
  const { deps } = ctx;
  const factor = await deps.governance.governor.penalize(error.retryAfterMs);
  const rateLimited = (ctx.data.rateLimited ?? 0) + 1;
  if (rateLimited > deps.lifecycle.maxRateLimited) {
    throw failJob(
      'RATE_LIMITED_TOO_LONG',
      `Runflow answered 429 ${rateLimited} times for this job; last: ${error.message}`,
    );
  }
  const delayMs = Math.max(
    error.retryAfterMs ?? 0,
    backoffMs(deps.lifecycle.transientBackoffMs, 0, deps.lifecycle.maxTransientBackoffMs),
  );
  ctx.log.info({ factor, delayMs, rateLimited }, 'Runflow rate-limited the submit; fleet slowed down');
  await saveData(ctx, { step: 'queued', rateLimited });
  return park(ctx, deps.now() + delayMs);
}

/**
 * Step `submitting` on dequeue: a submit was ambiguous, or a worker died between POST and recording
 * the run. Adopt the run if its callback arrived (by clientRef); else wait out the grace period, then
 * look the run up by clientRef; only when none is found resubmit with the same Idempotency-Key
 * (Runflow replays the original run when it honours the key).
 */
export async function resolveSubmitting(ctx: JobContext): Promise<EditResult> {
  const { deps, data } = ctx;
  const clientRef = data.clientRef as string;
  const adopted = await deps.inbox.runForClientRef(deps.queue, clientRef);
  if (adopted) return adoptRun(ctx, adopted, 'callback');
  const now = deps.now();
  const since = data.ambiguousSince ?? now;
  if (data.ambiguousSince === undefined) await saveData(ctx, { ambiguousSince: since });
  if (now < since + deps.lifecycle.ambiguousGraceMs) return park(ctx, since + deps.lifecycle.ambiguousGraceMs);
  // No callback in the grace period (lost, or given up while ingest was down): ask Runflow before paying again.
  const lookup = await lookUpRun(ctx, clientRef);
  if (lookup.kind === 'found') return adoptRun(ctx, lookup.runId, 'lookup');
  if (lookup.kind === 'retry') return park(ctx, deps.now() + lookup.delayMs);
  if (data.abandoned) {
    // Cancelled while the submit was ambiguous and no run showed up: do not pay for one now.
    throw failJob(
      'JOB_ABANDONED',
      'cancelled by the caller; the ambiguous submit produced no run within the grace period',
    );
  }
  ctx.log.warn('no run showed up within the grace period; resubmitting with the same Idempotency-Key');
  await saveData(ctx, { step: 'queued', ambiguousSince: undefined, resubmits: (data.resubmits ?? 0) + 1 });
  return submitRun(ctx);
}

/** The ambiguous submit did create a run (its callback, or a lookup, says so): record it and finalize. */
async function adoptRun(ctx: JobContext, runId: string, via: 'callback' | 'lookup'): Promise<EditResult> {
  const { deps, data } = ctx;
  ctx.log.info({ runId, via }, 'adopted the run of an ambiguous submit');
  await saveData(ctx, {
    step: 'submitted',
    runId,
    submittedAt: data.submittedAt ?? deps.now(),
    deadlineAt: data.deadlineAt ?? deps.now() + deps.governance.workload.deadlineMs,
  });
  await Promise.all([deps.runIndex.record(deps.queue, runId, ctx.job.id as string), wakeFirst(ctx)]);
  return finalizeRun(ctx);
}
