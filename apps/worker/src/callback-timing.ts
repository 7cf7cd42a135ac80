import type { EditResult } from '@runflow-queue/shared';

// When ingest stored the callback that completed a job, known to the step that read the inbox: the
// worker's callback→completion histogram takes it from here, in-process, instead of reading the
// inbox from Redis again once the job is done. Keyed by the result object BullMQ hands to 'completed'.

const receivedAtOf = new WeakMap<EditResult, number>();

export function noteCallbackReceived(result: EditResult, receivedAt: number): void {
  receivedAtOf.set(result, receivedAt);
}

export function callbackReceivedAt(result: EditResult): number | undefined {
  return receivedAtOf.get(result);
}
