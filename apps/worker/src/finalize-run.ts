import { isRunflowApiError } from '@runflow-queue/runflow-client';
import {
  type CompletedBy,
  type EditResult,
  extractOutputs,
  isSuccessStatus,
  isTerminalStatus,
  type ModelId,
  priceTerminalRun,
  runFailure,
  type TerminalRunCost,
} from '@runflow-queue/shared';
import { takePollSlot } from './admit-job.ts';
import { type JobContext, park, saveData } from './job-context.ts';
import { failJob } from './job-failure.ts';
import { backoffMs } from './lifecycle-config.ts';
import { settleSupersededRun } from './settle-superseded-run.ts';

/** Runflow's presigned output URLs were observed to live about 3 days. */
const OUTPUT_URL_LIFETIME_MS = 3 * 24 * 3600_000;

/** A run in a terminal state, from a callback or a poll. */
interface TerminalRun extends TerminalRunCost {
  durationMs: number | null | undefined;
  failure: { failure_code?: unknown; failure_message?: unknown; output?: unknown };
}

/**
 * Finalize: the job woke (promoted by a callback, or its poll time came). Inbox first; else poll;
 * still running → park again with backoff; past the hard deadline → fail with a code.
 */
export async function finalizeRun(ctx: JobContext): Promise<EditResult> {
  const { deps } = ctx;
  const runId = ctx.data.runId as string;
  const entry = await deps.inbox.read(deps.queue, runId);
  if (entry) {
    const p = entry.payload;
    return settle(
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
  }

  await takePollSlot(ctx);
  const now = deps.now();
  try {
    const run = await deps.client.getRun(runId);
    if (isTerminalStatus(run.status_code)) {
      return settle(
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
    if (error.kind === 'permanent') throw failJob(error.code, `polling run ${runId}: ${error.message}`);
    if (error.status === 429) await deps.governance.governor.penalize(error.retryAfterMs);
    ctx.log.info({ code: error.code, status: error.status }, 'poll failed (retryable); will poll again');
  }

  const deadlineAt = ctx.data.deadlineAt ?? now;
  if (now >= deadlineAt) {
    throw failJob(
      'RUN_DEADLINE_EXCEEDED',
      `run ${runId} had no terminal result by ${new Date(deadlineAt).toISOString()}`,
    );
  }
  const polls = (ctx.data.polls ?? 0) + 1;
  await saveData(ctx, { polls });
  const wait = backoffMs(deps.lifecycle.pollIntervalMs, polls - 1, deps.lifecycle.maxPollIntervalMs);
  return park(ctx, Math.min(now + wait, deadlineAt));
}

/** Settle spend once per run, then complete or fail the job. */
async function settle(ctx: JobContext, run: TerminalRun, completedBy: CompletedBy): Promise<EditResult> {
  const { deps, data } = ctx;
  const runId = data.runId as string;
  const now = deps.now();
  const succeeded = isSuccessStatus(run.status);
  const outputs = succeeded ? extractOutputs(run.output) : [];
  const completedAtMs = run.completedAt ? Date.parse(run.completedAt) : Number.NaN;
  // The one way a run is priced (orphans settled as waste use it too): the ledger must match billing.
  const { day, images, costMicroUsd, pricing } = priceTerminalRun(data.model as ModelId, data.input, run, now);

  const settledNow = await deps.ledger.settle({
    queue: deps.queue,
    runId,
    model: data.model,
    day,
    costCenter: data.tags?.costCenter,
    caller: data.caller,
    outcome: succeeded ? 'completed' : 'failed',
    images,
    costMicroUsd,
    completedBy,
    pricing,
    budget: deps.governance.workload.budget
      ? { jobId: ctx.job.id as string, reservation: data.reservation, at: now }
      : undefined,
  });
  ctx.log.info({ status: run.status, completedBy, costMicroUsd, images, settledNow }, 'run finished');
  // Only after a resubmit: an earlier run of this job that billed is settled as waste.
  await settleSupersededRun(ctx);
  // Cancelled after submit (issue 8): the spend is settled above; the caller gets JOB_ABANDONED, not the result.
  if (data.abandoned) {
    throw failJob('JOB_ABANDONED', `cancelled by the caller; run ${runId} ended ${run.status}, ${costMicroUsd} µUSD`);
  }

  if (!succeeded) {
    const failure = runFailure(run.failure);
    const code = run.status === 'failed' ? 'RUN_FAILED' : 'RUN_CANCELLED';
    throw failJob(code, `run ${runId} ended ${run.status}: ${failure.code}: ${failure.message}`);
  }
  const runCompletedAt = Number.isFinite(completedAtMs) ? completedAtMs : now;
  return {
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
  };
}
