import { type ModelId, priceTerminalRun } from '@runflow-queue/shared';
import type { JobContext } from './job-context.ts';

/**
 * A job that resubmitted after an ambiguous submit may have two runs on a Runflow that ignores the
 * Idempotency-Key. When the first run's callback landed while the job had no run recorded (between
 * the resubmit decision and the new run's id), ingest could not tell it was an orphan and stored it
 * as a candidate for adoption (clientRef → run). The job knows now: it kept another run, so the first
 * one is settled as waste here. Only jobs that resubmitted pay for the lookup.
 */
export async function settleSupersededRun(ctx: JobContext): Promise<void> {
  const { deps, data } = ctx;
  if (!data.resubmits || !data.clientRef) return;
  const other = await deps.inbox.runForClientRef(deps.queue, data.clientRef);
  if (!other || other === data.runId) return;
  const entry = await deps.inbox.read(deps.queue, other);
  if (!entry) return;
  const payload = entry.payload;
  const price = priceTerminalRun(
    data.model as ModelId,
    data.input,
    { status: payload.status, output: payload.output, cost: payload.cost, completedAt: payload.completed_at },
    deps.now(),
  );
  if (price.costMicroUsd === 0) return;
  const settled = await deps.ledger.settleWaste(
    { queue: deps.queue, runId: other, model: data.model, costCenter: data.tags?.costCenter, caller: data.caller },
    price,
  );
  if (settled)
    ctx.log.warn(
      { orphanRunId: other, costMicroUsd: price.costMicroUsd },
      'an earlier run of this job billed: settled as waste',
    );
}
