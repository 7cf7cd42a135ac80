import type { SubmittedJobData } from '@runflow-queue/shared';
import { settleWasteRun } from '@runflow-queue/store';
import type { StepContext } from './step-context.ts';

/**
 * A job that resubmitted after an ambiguous submit may have two runs on a Runflow that ignores the
 * Idempotency-Key. When the first run's callback landed while the job had no run recorded (between
 * the resubmit decision and the new run's id), ingest could not tell it was an orphan and stored it
 * as a candidate for adoption (clientRef → run). The job knows now: it kept another run, so the first
 * one is settled as waste here. Only jobs that resubmitted pay for the lookup.
 */
export async function settleSupersededRun(ctx: StepContext<SubmittedJobData>): Promise<void> {
  const { deps, data } = ctx;
  if (!data.resubmits || !data.clientRef) return;
  const other = await deps.inbox.runForClientRef(deps.queue, data.clientRef);
  if (!other || other === data.runId) return;
  const entry = await deps.inbox.read(deps.queue, other);
  if (!entry) return;
  const settled = await settleWasteRun(
    deps.ledger,
    {
      queue: deps.queue,
      jobId: ctx.jobId,
      model: data.model,
      input: data.input,
      costCenter: data.tags?.costCenter,
      caller: data.caller,
    },
    entry.payload,
    deps.now(),
  );
  if (settled === 'waste') ctx.log.warn({ orphanRunId: other }, 'an earlier run of this job billed: settled as waste');
}
