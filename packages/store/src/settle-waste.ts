import { type CallbackPayload, isModelId, type ModelId, priceTerminalRun } from '@runflow-queue/shared';
import { Job, type Queue } from 'bullmq';
import type { SpendLedger } from './spend-ledger.ts';

// Waste: a run that billed but that no job kept. Settled here, in one way, whoever finds it — the
// worker (an earlier run of a job that resubmitted) or ingest (a callback for a run its job did not
// keep) — priced the way the worker prices a run, and settled once (the ledger's settle-once marker).

/** The job's side of a waste settlement: what prices the run and where it is booked. */
export interface WasteOwner {
  queue: string;
  /** The job whose run this was (unset: unknown). */
  jobId?: string | undefined;
  model: ModelId;
  input: Record<string, unknown>;
  costCenter?: string | undefined;
  /** The API caller that enqueued the job (a ledger dimension like the cost center). */
  caller?: string | undefined;
}

/** `waste`: settled now. `already-settled`: someone settled it first. `free`: the run cost nothing. */
export type WasteSettlement = 'waste' | 'already-settled' | 'free';

export async function settleWasteRun(
  ledger: Pick<SpendLedger, 'settleWaste'>,
  owner: WasteOwner,
  payload: CallbackPayload,
  now?: number,
): Promise<WasteSettlement> {
  const price = priceTerminalRun(
    owner.model,
    owner.input,
    { status: payload.status, output: payload.output, cost: payload.cost, completedAt: payload.completed_at },
    now,
  );
  if (price.costMicroUsd === 0) return 'free';
  const settled = await ledger.settleWaste(
    {
      queue: owner.queue,
      runId: payload.run_id,
      jobId: owner.jobId,
      model: owner.model,
      costCenter: owner.costCenter,
      caller: owner.caller,
    },
    price,
  );
  return settled ? 'waste' : 'already-settled';
}

/**
 * `current`: the job's own run, or a job that has not recorded a run yet (it may adopt this one); the
 * worker settles it. `unknown-job`: the job is gone, so there is nothing to price the run with.
 */
export type OrphanCheck = 'current' | 'unknown-job' | WasteSettlement;

/**
 * For ingest, on every callback: is this a run its job did not keep — the job moved on to another run
 * after an ambiguous submit (Runflow ignored the Idempotency-Key), or it ended without this run
 * (deadline, failure)? Nobody else will settle such a run, so it is settled as waste now. Settle-once
 * makes this a no-op for a run the worker already settled.
 */
export async function settleIfOrphan(
  queue: Queue,
  ledger: Pick<SpendLedger, 'settleWaste'>,
  jobId: string,
  payload: CallbackPayload,
): Promise<OrphanCheck> {
  const job = await Job.fromId(queue, jobId);
  if (!job) return 'unknown-job';
  const data: {
    runId?: unknown;
    model?: unknown;
    input?: unknown;
    tags?: { costCenter?: unknown };
    caller?: unknown;
  } = job.data ?? {};
  if (job.finishedOn === undefined && (data.runId === undefined || data.runId === payload.run_id)) return 'current';
  const { model, input } = data;
  if (!isModelId(model) || !isRecord(input)) return 'unknown-job';
  const costCenter = typeof data.tags?.costCenter === 'string' ? data.tags.costCenter : undefined;
  const caller = typeof data.caller === 'string' ? data.caller : undefined;
  return settleWasteRun(ledger, { queue: queue.name, jobId, model, input, costCenter, caller }, payload);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
