import { type CallbackPayload, RunMetadata } from '@runflow-queue/shared';
import type { RunIndex } from '@runflow-queue/store';

export interface CallbackTarget {
  queue: string;
  jobId: string;
  clientRef: string | undefined;
}

/** The job a callback belongs to: from the echoed metadata, else from the run index. */
export async function resolveJob(
  payload: CallbackPayload,
  queues: ReadonlySet<string>,
  runIndex: RunIndex,
): Promise<CallbackTarget | undefined> {
  const metadata = RunMetadata.safeParse(payload.metadata);
  if (metadata.success && queues.has(metadata.data.queue)) {
    return { queue: metadata.data.queue, jobId: metadata.data.jobId, clientRef: metadata.data.clientRef };
  }
  const located = await runIndex.locate(payload.run_id);
  if (located && queues.has(located.queue)) return { ...located, clientRef: undefined };
  return undefined;
}
