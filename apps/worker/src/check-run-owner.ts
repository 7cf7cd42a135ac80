import type { SubmittedJobData } from '@runflow-queue/shared';

/**
 * Before a job adopts a run's result: is the run this job's? Our metadata `{queue, jobId, clientRef}`
 * goes on every run we create and Runflow echoes it in callbacks and on the run. A job carrying another
 * job's run id (written into Redis by hand, an old script, a bug) would otherwise complete with that
 * run's outputs and cost. Returns what differs, or undefined when the run is this job's. A run whose
 * record carries no metadata at all cannot be told apart and is accepted (our runs always carry it).
 */
export function runOwnerMismatch(
  metadata: unknown,
  expected: { queue: string; jobId: string; data: Pick<SubmittedJobData, 'clientRef'> },
): string | undefined {
  if (metadata === null || metadata === undefined) return undefined;
  if (typeof metadata !== 'object' || Array.isArray(metadata)) return `metadata is ${JSON.stringify(metadata)}`;
  const meta = metadata as Record<string, unknown>;
  const differs: string[] = [];
  if (meta.queue !== expected.queue) differs.push(`queue ${JSON.stringify(meta.queue)} ≠ ${expected.queue}`);
  if (meta.jobId !== expected.jobId) differs.push(`jobId ${JSON.stringify(meta.jobId)} ≠ ${expected.jobId}`);
  const clientRef = expected.data.clientRef;
  if (clientRef !== undefined && meta.clientRef !== clientRef)
    differs.push(`clientRef ${JSON.stringify(meta.clientRef)} ≠ ${clientRef}`);
  return differs.length > 0 ? differs.join(', ') : undefined;
}
