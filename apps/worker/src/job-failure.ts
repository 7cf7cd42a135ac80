import { formatFailure } from '@runflow-queue/shared';
import { UnrecoverableError } from 'bullmq';

/** Fails the job now, whatever attempts remain, with a coded reason "CODE: message". */
export function failJob(code: string, message: string): UnrecoverableError {
  return new UnrecoverableError(formatFailure(code.toUpperCase(), message));
}
