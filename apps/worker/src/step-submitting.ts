import { isRunflowApiError, type RunflowApiError } from '@runflow-queue/runflow-client';
import type { SubmittedJobData, SubmittingJobData } from '@runflow-queue/shared';
import { inflightMember } from './admit-job.ts';
import { backoffMs } from './lifecycle-config.ts';
import { lookUpRun } from './look-up-run.ts';
import { takeRequestSlot } from './request-slot.ts';
import type { StepContext } from './step-context.ts';
import { fail, next, parkUntil, type Transition } from './transition.ts';

/**
 * Step `submitting`. Entered just now (the intent is saved): POST the run. Found at dequeue: an
 * earlier POST may have reached Runflow without an answer (an ambiguous submit, or a worker that died
 * between POST and recording the run), so resolve that before anything is paid again.
 */
export function submittingStep(ctx: StepContext<SubmittingJobData>): Promise<Transition> {
  return ctx.entered ? postRun(ctx) : resolveSubmitting(ctx);
}

/** After a 429 that was the model's cap, the job asks for admission again after about this (its slot is free). */
const CAP_RETRY_MS = 500;

/** POST the run with the clientRef as client_ref, metadata.clientRef and Idempotency-Key. */
async function postRun(ctx: StepContext<SubmittingJobData>): Promise<Transition> {
  const { deps, data, jobId } = ctx;
  const started = deps.now();
  let runId: string;
  let modelId: unknown;
  try {
    const run = await deps.client.createRun(
      data.model,
      {
        input: data.input,
        callback_url: deps.lifecycle.callbackUrl ?? null,
        metadata: { queue: deps.queue, jobId, clientRef: data.clientRef },
        client_ref: data.clientRef,
      },
      { idempotencyKey: data.clientRef },
    );
    runId = run.id;
    // Runflow names models by uuid on its records: learnt here, so a run whose job is lost can be booked.
    // Outside the create's error handling: the run exists whatever Redis answers.
    modelId = run.model_id;
  } catch (error) {
    if (!isRunflowApiError(error)) throw error;
    return submitFailed(ctx, error);
  }
  await deps.modelIds
    ?.learn(modelId, data.model)
    .catch((error: unknown) => ctx.log.debug({ err: error }, 'could not record the model id'));
  await deps.holds?.observe(undefined);
  ctx.log.info({ runId, submitMs: deps.now() - started }, 'run submitted');
  // Evidence for telling a later 429 apart (a model's cap or the rate limit); the run exists either way.
  await deps.governance.inflight
    .created(data.model, inflightMember(deps.queue, jobId), deps.now())
    .catch((error: unknown) => ctx.log.debug({ err: error }, 'could not record the accepted create'));
  // The run exists: the loop records it (job data and run index), then parks until the first poll.
  const now = deps.now();
  return parkUntil(now + deps.lifecycle.firstPollDelayMs, 'run submitted', {
    data: { ...withRun(ctx, runId), transientErrors: 0 },
  });
}

/** The job's data once it has a run: step `submitted`, with its submit time and hard deadline. */
function withRun(ctx: StepContext<SubmittingJobData>, runId: string): SubmittedJobData {
  const { data, deps } = ctx;
  const now = deps.now();
  return {
    ...data,
    step: 'submitted',
    runId,
    submittedAt: data.submittedAt ?? now,
    breakerOpenMsAtSubmit: data.breakerOpenMsAtSubmit ?? deps.holds?.breakerOpenTotalMs(),
    deadlineAt: data.deadlineAt ?? now + deps.governance.workload.deadlineMs,
  };
}

async function submitFailed(ctx: StepContext<SubmittingJobData>, error: RunflowApiError): Promise<Transition> {
  const { deps, data } = ctx;
  const breakerOpen = (await deps.holds?.observe(error)) ?? false;
  const now = deps.now();
  if (error.status === 402 && deps.holds) {
    // Credit spent (runflow-api.md §5, §7): Runflow created nothing and billed nothing. Hold the
    // account's submits and put this job back, its clientRef and budget reservation kept.
    await deps.holds.holdCredit(`${error.code}: ${error.message}`);
    deps.holds.parked(deps.queue, 'credit');
    ctx.log.warn({ code: error.code }, 'Runflow credit spent; submits held until it is topped up');
    return parkUntil(deps.holds.recheckAt(now), 'hold: credit', { data: { ...data, step: 'queued' } });
  }
  if (error.kind === 'permanent') {
    ctx.log.warn({ code: error.code, status: error.status }, 'Runflow rejected the run');
    return fail(error.code, error.message);
  }
  if (error.kind === 'ambiguous') {
    // The POST may have created a run: keep step `submitting` and give its callback a grace period
    // to arrive (matched by clientRef) before resubmitting with the same Idempotency-Key.
    ctx.log.warn({ code: error.code }, 'submit was ambiguous; waiting for the run to show up');
    return parkUntil(now + deps.lifecycle.ambiguousGraceMs, 'ambiguous submit', {
      data: { ...data, ambiguousSince: data.ambiguousSince ?? now },
    });
  }
  if (error.status === 429) return rateLimited(ctx, error);
  if (breakerOpen && deps.holds) {
    // Runflow is down for everyone, not for this job: the breaker holds the fleet; no retry is used.
    deps.holds.parked(deps.queue, 'breaker');
    return parkUntil(deps.holds.recheckAt(now), 'hold: breaker', { data: { ...data, step: 'queued' } });
  }
  const transientErrors = (data.transientErrors ?? 0) + 1;
  if (transientErrors > deps.lifecycle.maxTransientErrors) {
    return fail('RUNFLOW_RETRIES_EXHAUSTED', `${transientErrors} retryable errors in a row; last: ${error.message}`);
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
  return parkUntil(now + delayMs, 'retryable submit error', { data: { ...data, step: 'queued', transientErrors } });
}

/**
 * A 429 on a create is either the model's concurrency cap on Runflow (it followed the runs in flight:
 * the cap is learned, the job waits for a slot at admission, the fleet's rate is left alone and the
 * job's 429 budget is not spent) or the account's rate limit (the governor's rate halves, and stops
 * until Retry-After when given). Either way the job parks without burning an attempt, back in `queued`.
 * The guard keeps a job from looping forever on the rate limit.
 */
async function rateLimited(ctx: StepContext<SubmittingJobData>, error: RunflowApiError): Promise<Transition> {
  const { deps, data, jobId } = ctx;
  const verdict = await deps.governance.inflight.limited(data.model, inflightMember(deps.queue, jobId), deps.now());
  if (verdict.kind === 'cap' && !error.retryAfterMs) {
    const delayMs = backoffMs(CAP_RETRY_MS, 0, CAP_RETRY_MS);
    ctx.log.info(
      { runsInFlight: verdict.others, learnedCap: verdict.learnedCap, delayMs },
      "Runflow refused the run: the model's concurrency cap; waiting for a slot",
    );
    return parkUntil(deps.now() + delayMs, 'model concurrency cap', { data: { ...data, step: 'queued' } });
  }
  const factor = await deps.governance.governor.penalize(error.retryAfterMs);
  const count = (data.rateLimited ?? 0) + 1;
  if (count > deps.lifecycle.maxRateLimited) {
    return fail('RATE_LIMITED_TOO_LONG', `Runflow answered 429 ${count} times for this job; last: ${error.message}`);
  }
  const delayMs = Math.max(
    error.retryAfterMs ?? 0,
    backoffMs(deps.lifecycle.transientBackoffMs, 0, deps.lifecycle.maxTransientBackoffMs),
  );
  ctx.log.info({ factor, delayMs, rateLimited: count }, 'Runflow rate-limited the submit; fleet slowed down');
  return parkUntil(deps.now() + delayMs, 'rate limited', { data: { ...data, step: 'queued', rateLimited: count } });
}

/**
 * Adopt the run if its callback arrived (by clientRef); else wait out the grace period, then look the
 * run up by clientRef; only when none is found resubmit with the same Idempotency-Key (Runflow replays
 * the original run when it honours the key).
 */
async function resolveSubmitting(ctx: StepContext<SubmittingJobData>): Promise<Transition> {
  const { deps } = ctx;
  const clientRef = ctx.data.clientRef;
  const adopted = await deps.inbox.runForClientRef(deps.queue, clientRef);
  if (adopted) return adoptRun(ctx, adopted, 'callback');
  const now = deps.now();
  const since = ctx.data.ambiguousSince ?? now;
  const data = ctx.data.ambiguousSince === undefined ? { ...ctx.data, ambiguousSince: since } : ctx.data;
  const graceEnds = since + deps.lifecycle.ambiguousGraceMs;
  if (now < graceEnds) return parkUntil(graceEnds, 'ambiguous submit grace', { data });
  // No callback in the grace period (lost, or given up while ingest was down): ask Runflow before paying
  // again — once Runflow answers: while the breaker is open the job waits, its look-up retries unused.
  if (deps.holds?.breakerOpen()) {
    deps.holds.parked(deps.queue, 'breaker');
    return parkUntil(deps.holds.recheckAt(now), 'hold: breaker', { data });
  }
  const slot = await takeRequestSlot(ctx);
  if (slot) return parkUntil(deps.now() + slot.waitMs, 'look-up slot', { data });
  const lookup = await lookUpRun({ ...ctx, data });
  if (lookup.kind === 'found') return adoptRun({ ...ctx, data: lookup.data }, lookup.runId, 'lookup');
  if (lookup.kind === 'retry') return parkUntil(deps.now() + lookup.delayMs, 'look-up failed', { data: lookup.data });
  if (data.abandoned) {
    // Cancelled while the submit was ambiguous and no run showed up: do not pay for one now.
    return fail(
      'JOB_ABANDONED',
      'cancelled by the caller; the ambiguous submit produced no run within the grace period',
    );
  }
  ctx.log.warn('no run showed up within the grace period; resubmitting with the same Idempotency-Key');
  return next({
    ...lookup.data,
    step: 'queued',
    ambiguousSince: undefined,
    resubmits: (data.resubmits ?? 0) + 1,
  });
}

/** The ambiguous submit did create a run (its callback, or a look-up, says so): record it and finalize. */
function adoptRun(ctx: StepContext<SubmittingJobData>, runId: string, via: 'callback' | 'lookup'): Transition {
  ctx.log.info({ runId, via }, 'adopted the run of an ambiguous submit');
  return next(withRun(ctx, runId));
}
