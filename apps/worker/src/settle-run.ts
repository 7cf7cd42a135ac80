import {
  type CompletedBy,
  extractOutputs,
  isSuccessStatus,
  priceTerminalRun,
  runFailure,
  type SubmittedJobData,
  type TerminalRunCost,
} from '@runflow-queue/shared';
import { ATTR, inSpan, SPAN } from '@runflow-queue/tracing';
import { settleSupersededRun } from './settle-superseded-run.ts';
import type { StepContext } from './step-context.ts';
import { complete, fail, type Transition } from './transition.ts';

/** Runflow's presigned output URLs were observed to live about 3 days. */
const OUTPUT_URL_LIFETIME_MS = 3 * 24 * 3600_000;

/** A run in a terminal state, from a callback or a poll. */
export interface TerminalRun extends TerminalRunCost {
  durationMs: number | null | undefined;
  failure: { failure_code?: unknown; failure_message?: unknown; output?: unknown };
}

/** Settle spend once per run, then complete the job with its result or fail it with the run's code. */
export async function settleRun(
  ctx: StepContext<SubmittedJobData>,
  run: TerminalRun,
  completedBy: CompletedBy,
): Promise<Transition> {
  const { deps, data, jobId } = ctx;
  const { runId } = data;
  const now = deps.now();
  const succeeded = isSuccessStatus(run.status);
  const outputs = succeeded ? extractOutputs(run.output) : [];
  const completedAtMs = run.completedAt ? Date.parse(run.completedAt) : Number.NaN;
  // The one way a run is priced (orphans settled as waste use it too): the ledger must match billing.
  const { day, images, costMicroUsd, estimatedMicroUsd, pricing } = priceTerminalRun(data.model, data.input, run, now);
  // Runflow's cost when the record carries one (the poll path): confirmed at once. A failed run is not
  // billed (runflow-api.md §7), so its zero is as good as confirmed. Otherwise (a callback carries no
  // cost) the table's estimate is booked and the reconciler confirms it from Runflow's record.
  const state = pricing.source === 'provider' || run.status === 'failed' ? 'confirmed' : 'estimated';

  const attributes = () => ({
    [ATTR.queue]: deps.queue,
    [ATTR.jobId]: jobId,
    [ATTR.model]: data.model,
    [ATTR.runId]: runId,
    [ATTR.costMicroUsd]: costMicroUsd,
    [ATTR.completedBy]: completedBy,
    'rfq.runStatus': run.status,
  });
  const settle = () =>
    deps.ledger.settle({
      queue: deps.queue,
      runId,
      jobId,
      model: data.model,
      day,
      costCenter: data.tags?.costCenter,
      caller: data.caller,
      outcome: succeeded ? 'completed' : 'failed',
      images,
      costMicroUsd,
      estimatedMicroUsd,
      state,
      completedBy,
      pricing,
      settledAtMs: now,
      budget: deps.governance.workload.budget ? { jobId, reservation: data.reservation, at: now } : undefined,
    });
  const settledNow = await inSpan(SPAN.settle, { attributes }, async (span) => {
    const settled = await settle();
    span.setAttribute('rfq.settledNow', settled);
    return settled;
  });
  ctx.log.info({ status: run.status, completedBy, costMicroUsd, images, settledNow }, 'run finished');
  // Only after a resubmit: an earlier run of this job that billed is settled as waste.
  await settleSupersededRun(ctx);
  // Cancelled after submit: the spend is settled above; the caller gets JOB_ABANDONED, not the result.
  if (data.abandoned) {
    return fail('JOB_ABANDONED', `cancelled by the caller; run ${runId} ended ${run.status}, ${costMicroUsd} µUSD`);
  }
  if (!succeeded) {
    const failure = runFailure(run.failure);
    const code = run.status === 'failed' ? 'RUN_FAILED' : 'RUN_CANCELLED';
    return fail(code, `run ${runId} ended ${run.status}: ${failure.code}: ${failure.message}`);
  }
  const runCompletedAt = Number.isFinite(completedAtMs) ? completedAtMs : now;
  return complete({
    runId,
    status: run.status,
    outputs,
    costMicroUsd,
    completedBy,
    timings: {
      enqueuedAt: data.enqueuedAt,
      submittedAt: data.submittedAt ?? now,
      completedAt: now,
      runDurationMs: run.durationMs ?? null,
    },
    outputsExpireAt: runCompletedAt + OUTPUT_URL_LIFETIME_MS,
  });
}
