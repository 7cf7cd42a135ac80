import type { EditJobData, EditResult } from '@runflow-queue/shared';
import type { RunIndex } from '@runflow-queue/store';
import { DelayedError } from 'bullmq';
import type { Logger } from 'pino';
import { failJob } from './job-failure.ts';
import { lazyJobLog } from './job-log.ts';
import { type EditJob, type LifecycleHooks, parkJob } from './park-job.ts';
import type { StepContext, StepDeps } from './step-context.ts';
import { queuedStep } from './step-queued.ts';
import { submittedStep } from './step-submitted.ts';
import { submittingStep } from './step-submitting.ts';
import { reportPark, traceStep, withParkMark } from './trace-steps.ts';
import type { Transition } from './transition.ts';

/** What the loop needs beyond the steps' own I/O: the run index, the logger, test hooks. */
export interface EditJobDeps extends StepDeps {
  runIndex: Pick<RunIndex, 'record'>;
  logger: Logger;
  hooks?: LifecycleHooks;
}

/**
 * The signal that tells BullMQ the job moved itself to delayed. One shared instance: building an
 * Error captures a stack trace, and this is thrown on every park.
 */
export const PARKED = new DelayedError('parked until its result or its next poll');

/** More transitions than any path takes in one wake-up (the longest: submitting → queued → submitting → park). */
const MAX_TRANSITIONS_PER_WAKE = 8;

/** The step function for the job's current step. */
export function runStep(ctx: StepContext): Promise<Transition> {
  const { data } = ctx;
  switch (data.step) {
    case 'queued':
      return queuedStep({ ...ctx, data });
    case 'submitting':
      return submittingStep({ ...ctx, data });
    case 'submitted':
      return submittedStep({ ...ctx, data });
  }
}

/** The job's data as last saved; the processor's outcome block reads it (what the job holds). */
export interface SavedData {
  data: EditJobData;
}

/**
 * The job's state machine for one wake-up: run the step, apply its transition — save the data, then
 * continue, park, complete or fail — until the job parks or ends. The only place a job's data is
 * saved and the only place it parks. Resolves with the result; throws PARKED or a coded failure.
 */
export async function runSteps(job: EditJob, token: string, saved: SavedData, deps: EditJobDeps): Promise<EditResult> {
  const { data } = saved;
  let ctx: StepContext = {
    jobId: job.id as string,
    data,
    entered: false,
    deps,
    log: lazyJobLog(deps.logger, deps.queue, job.id, data),
  };
  reportPark(job, deps.queue, data, deps.now());
  for (let transitions = 0; transitions < MAX_TRANSITIONS_PER_WAKE; transitions += 1) {
    const step = ctx;
    const transition = await traceStep(step, () => runStep(step));
    switch (transition.kind) {
      case 'next':
        ctx = { ...(await save(job, deps, saved, ctx, transition.data)), entered: true };
        continue;
      case 'park': {
        const parkData = withParkMark(transition.data, ctx.data, {
          at: deps.now(),
          wakeAt: transition.wakeAt,
          reason: transition.reason,
        });
        if (transition.pauseQueueMs !== undefined) await deps.governance.rateLimitQueue(transition.pauseQueueMs);
        const woke = await park(job, token, deps, saved, ctx, parkData, transition.wakeAt);
        ctx.log.debug({ wakeAt: transition.wakeAt, reason: transition.reason, woke, step: saved.data.step }, 'parked');
        throw PARKED;
      }
      case 'complete':
        return transition.result;
      case 'fail':
        throw failJob(transition.code, transition.message);
    }
  }
  throw new Error(`job ${job.id}: more than ${MAX_TRANSITIONS_PER_WAKE} steps in one wake-up (step ${ctx.data.step})`);
}

/**
 * Parks the job, saving its new data (when it changed) in the same script as the move. A job that
 * enters `submitted` here (the usual path: its run was just created) is also recorded in the run index,
 * beside the park, and moved to priority 0 (see `save`) — with the move too, not with changePriority.
 */
async function park(
  job: EditJob,
  token: string,
  deps: EditJobDeps,
  saved: SavedData,
  ctx: StepContext,
  parkData: EditJobData | undefined,
  wakeAt: number,
): Promise<'parked' | 'promoted'> {
  const changed = parkData !== undefined && parkData !== saved.data ? parkData : undefined;
  const data = changed ?? ctx.data;
  const entersSubmitted = changed?.step === 'submitted' && ctx.data.step !== 'submitted';
  const fields = changed ? { data: changed, ...(entersSubmitted && job.priority !== 0 ? { priority: 0 } : {}) } : {};
  const [woke] = await Promise.all([
    parkJob(job, token, data, wakeAt, deps, fields),
    entersSubmitted && changed.step === 'submitted'
      ? deps.runIndex.record(deps.queue, changed.runId, ctx.jobId)
      : undefined,
  ]);
  saved.data = data;
  return woke;
}

/**
 * Saves the job's new data before anything acts on it. Entering `submitted` also records the run in
 * the run index (ingest finds the job by it) and moves the job to priority 0: BullMQ serves
 * priority-0 jobs before prioritized ones, and the producer enqueues every new job with a priority,
 * so a job with a run is finalized ahead of any backlog of submits when it wakes.
 */
async function save(
  job: EditJob,
  deps: EditJobDeps,
  saved: SavedData,
  ctx: StepContext,
  data: EditJobData,
): Promise<StepContext> {
  if (data === saved.data) return ctx;
  await job.updateData(data);
  saved.data = data;
  if (data.step === 'submitted' && ctx.data.step !== 'submitted') {
    await Promise.all([
      deps.runIndex.record(deps.queue, data.runId, ctx.jobId),
      job.priority !== 0 ? job.changePriority({ priority: 0 }) : undefined,
    ]);
  }
  // Rebind the job's log fields only when they change.
  const log =
    data.runId !== ctx.data.runId || data.clientRef !== ctx.data.clientRef
      ? lazyJobLog(deps.logger, deps.queue, job.id, data)
      : ctx.log;
  return { ...ctx, data, log };
}
