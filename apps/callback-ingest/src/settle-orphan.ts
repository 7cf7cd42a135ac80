import { type CallbackPayload, type EditJobData, isModelId, priceTerminalRun } from '@runflow-queue/shared';
import type { SpendLedger } from '@runflow-queue/store';
import { Job, type Queue } from 'bullmq';

/**
 * `current`: the job's own run, or a job that has not recorded a run yet (it may adopt this one); the
 * worker settles it. `waste`: settled here now. `already-settled`: someone settled it first. `free`:
 * the run cost nothing. `unknown-job`: the job is gone, so there is nothing to price the run with.
 */
export type OrphanCheck = 'current' | 'waste' | 'already-settled' | 'free' | 'unknown-job';

/**
 * A callback for a run its job did not keep still billed: the job moved on to another run after an
 * ambiguous submit (Runflow ignored the Idempotency-Key), or it ended without this run (deadline,
 * failure). Nobody else will settle it, so it is settled here as waste, priced the way the worker
 * prices a run. Settle-once makes this a no-op for a run the worker already settled.
 */
export async function settleIfOrphan(
  queue: Queue,
  ledger: SpendLedger,
  jobId: string,
  payload: CallbackPayload,
): Promise<OrphanCheck> {
  const job = await Job.fromId(queue, jobId);
  if (!job) return 'unknown-job';
  const data = (job.data ?? {}) as Partial<EditJobData>;
  const finished = job.finishedOn !== undefined;
  if (!finished && (data.runId === undefined || data.runId === payload.run_id)) return 'current';
  if (!isModelId(data.model) || typeof data.input !== 'object' || data.input === null) return 'unknown-job';
  const price = priceTerminalRun(data.model, data.input, {
    status: payload.status,
    output: payload.output,
    cost: payload.cost,
    completedAt: payload.completed_at,
  });
  if (price.costMicroUsd === 0) return 'free';
  const settled = await ledger.settleWaste(
    {
      queue: queue.name,
      runId: payload.run_id,
      model: data.model,
      costCenter: data.tags?.costCenter,
      caller: data.caller,
    },
    price,
  );
  return settled ? 'waste' : 'already-settled';
}
