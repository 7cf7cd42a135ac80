import type { EditJobData } from '@runflow-queue/shared';

/**
 * The caller a job without a recorded one belongs to: jobs enqueued before callers existed, by the
 * producer without a `caller`, or through the HTTP API with a token that names no caller. Their
 * idempotency keys keep the namespace they always had (the queue's).
 */
export const DEFAULT_CALLER = 'default';

/** Who enqueued a job (DEFAULT_CALLER when it records no one). */
export function jobOwner(data: Pick<EditJobData, 'caller'> | undefined): string {
  return typeof data?.caller === 'string' && data.caller !== '' ? data.caller : DEFAULT_CALLER;
}

/** Whether `caller` may see the job: no caller given (a trusted process, an admin) sees every job. */
export function visibleTo(data: Pick<EditJobData, 'caller'> | undefined, caller: string | undefined): boolean {
  return caller === undefined || jobOwner(data) === caller;
}
