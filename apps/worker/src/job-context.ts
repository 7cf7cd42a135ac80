import type { RunflowClient } from '@runflow-queue/runflow-client';
import type { EditJobData, EditResult, WorkloadQueue } from '@runflow-queue/shared';
import type {
  BudgetStore,
  CallbackInbox,
  InflightCaps,
  RateGovernor,
  RunIndex,
  SpendLedger,
} from '@runflow-queue/store';
import { DelayedError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { LifecycleConfig } from './lifecycle-config.ts';

export type EditJob = Job<EditJobData, EditResult>;

/** Test seams: awaited at fixed points of the lifecycle so tests can force an ordering. */
export interface LifecycleHooks {
  /** Just before the job parks with moveToDelayed (after submit, or between polls). */
  beforePark?: (job: EditJob, data: EditJobData) => Promise<void>;
}

/** What keeps a queue within the account's rate limit, its budget and the models' in-flight caps. */
export interface Governance {
  workload: WorkloadQueue;
  governor: RateGovernor;
  budgets: BudgetStore;
  inflight: InflightCaps;
  modelCaps: Readonly<Partial<Record<string, { maxInFlight: number }>>>;
  /** BullMQ's manual rate limit of this queue: every worker of it stops pulling for `ms`. */
  rateLimitQueue: (ms: number) => Promise<void>;
}

/** What processing a job needs; built once per queue by the worker. */
export interface EditJobDeps {
  queue: string;
  client: RunflowClient;
  inbox: CallbackInbox;
  runIndex: RunIndex;
  ledger: SpendLedger;
  lifecycle: LifecycleConfig;
  governance: Governance;
  logger: Logger;
  hooks?: LifecycleHooks;
  now: () => number;
}

export interface JobContext {
  job: EditJob;
  token: string;
  data: EditJobData;
  log: Logger;
  deps: EditJobDeps;
}

/** The job's logger: every line carries {queue, jobId, model, runId, clientRef}. Built from the
 * worker's logger each time (a child of a child would repeat the keys). */
export function jobLogger(deps: EditJobDeps, job: EditJob, data: EditJobData): Logger {
  return deps.logger.child({
    queue: deps.queue,
    jobId: job.id,
    model: data.model,
    runId: data.runId,
    clientRef: data.clientRef,
  });
}

/** Persists a change of the job's data (its step and run) before acting on it. */
export async function saveData(ctx: JobContext, patch: Partial<EditJobData>): Promise<void> {
  const before = ctx.data;
  ctx.data = { ...ctx.data, ...patch };
  await ctx.job.updateData(ctx.data);
  // Rebind the job's log fields only when they change (a pino child per save is measurable).
  if (ctx.data.runId !== before.runId || ctx.data.clientRef !== before.clientRef) {
    ctx.log = jobLogger(ctx.deps, ctx.job, ctx.data);
  }
}

/**
 * The signal that tells BullMQ the job moved itself to delayed. One shared instance: building an
 * Error captures a stack trace, and this is thrown on every park.
 */
const PARKED = new DelayedError('parked until its result or its next poll');

/**
 * Parks the job until `wakeAt` without holding a worker slot: moveToDelayed, THEN look for a result
 * that arrived meanwhile and promote the job ourselves. Ingest stores before it promotes, so a
 * callback landing on either side of moveToDelayed wakes the job.
 */
export async function park(ctx: JobContext, wakeAt: number): Promise<never> {
  const { job, data, deps } = ctx;
  await deps.hooks?.beforePark?.(job, data);
  await job.moveToDelayed(wakeAt, ctx.token);
  if (await resultWaiting(ctx)) {
    ctx.log.debug('result arrived while parking; promoting');
    await job.promote().catch((error: unknown) => {
      // Someone else (ingest) promoted it first: the job is already waiting.
      ctx.log.debug({ err: error }, 'promote after park was not needed');
    });
  }
  throw PARKED;
}

async function resultWaiting({ data, deps }: JobContext): Promise<boolean> {
  if (data.step === 'submitted' && data.runId) return deps.inbox.has(deps.queue, data.runId);
  if (data.step === 'submitting' && data.clientRef) {
    return (await deps.inbox.runForClientRef(deps.queue, data.clientRef)) !== undefined;
  }
  return false;
}
