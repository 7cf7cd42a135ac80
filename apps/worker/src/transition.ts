import type { EditJobData, EditResult } from '@runflow-queue/shared';

/**
 * What a step decided. Steps never save, park, complete or fail the job themselves: they return one
 * of these and the processor's loop applies it (`run-steps.ts`), so every way an attempt can end is
 * in one place.
 */
export type Transition =
  /** Save `data` and run the step it names now, in this same wake-up. */
  | { kind: 'next'; data: EditJobData }
  /**
   * Save `data` (when given), then park the job until `wakeAt` (epoch ms), holding no worker slot.
   * `pauseQueueMs`: first make every worker of this queue stop pulling that long (rate limit, caps).
   */
  | { kind: 'park'; wakeAt: number; reason: string; data?: EditJobData; pauseQueueMs?: number }
  /** The job is done: its spend is settled, this is what the caller gets. */
  | { kind: 'complete'; result: EditResult }
  /** The job fails now, whatever attempts remain, with a coded reason. */
  | { kind: 'fail'; code: string; message: string };

export const next = (data: EditJobData): Transition => ({ kind: 'next', data });

export const parkUntil = (
  wakeAt: number,
  reason: string,
  options: { data?: EditJobData; pauseQueueMs?: number } = {},
): Transition => ({ kind: 'park', wakeAt, reason, ...options });

export const complete = (result: EditResult): Transition => ({ kind: 'complete', result });

export const fail = (code: string, message: string): Transition => ({ kind: 'fail', code, message });
