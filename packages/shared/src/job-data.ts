import { z } from 'zod';
import { JobTags } from './edit-request.ts';
import { ModelIdField } from './models.ts';
import { RunOutputItem } from './run.ts';

// What a BullMQ job holds. Changes must be additive (new fields optional): Redis holds jobs written
// by the previous deploy, and workers re-validate every job on dequeue.

/** Where a job is in its life. It only moves forward. */
export const JobStep = z.enum(['queued', 'submitting', 'submitted']);
export type JobStep = z.infer<typeof JobStep>;

const common = {
  model: ModelIdField,
  /** Validated against the model's schema by the producer and again by the worker. */
  input: z.record(z.string(), z.unknown()),
  tags: JobTags.optional(),
  /** sha256 of the request, to tell an idempotent replay from a conflicting reuse of a key. */
  requestHash: z.string().optional(),
  enqueuedAt: z.number().int(),
  /** Fresh per submit attempt; sent as client_ref, Idempotency-Key and metadata.clientRef. */
  clientRef: z.string().optional(),
  runId: z.string().optional(),
  submittedAt: z.number().int().optional(),
  /** Past this (epoch ms) the job fails RUN_DEADLINE_EXCEEDED instead of polling again. */
  deadlineAt: z.number().int().optional(),
  /** Retryable Runflow errors met so far; they back off without burning BullMQ attempts. */
  transientErrors: z.number().int().optional(),
  polls: z.number().int().optional(),
  /**
   * The account breaker's total open time (ms) when the run was submitted: the poll deadline moves out
   * by however long it has been open since, so a run is not declared dead because we could not ask.
   */
  breakerOpenMsAtSubmit: z.number().int().optional(),
  /** Set when a submit may have reached Runflow without an answer (timeout/reset after sending). */
  ambiguousSince: z.number().int().optional(),
  /** Resubmits after an ambiguous submit found no run within the grace period. */
  resubmits: z.number().int().optional(),
  /**
   * The named caller that enqueued the job (an HTTP API token's name, `dashboard`, or the producer's
   * `caller` option); unset = `default`. A caller sees and cancels only its own jobs; a ledger dimension.
   */
  caller: z.string().max(64).optional(),
  /** Where to POST the signed edit.completed / edit.failed webhook (checked by the producer's URL policy). */
  notifyUrl: z.string().optional(),
  /**
   * The caller cancelled after the run was submitted. Runflow has no public cancel, so the run goes on:
   * the worker still settles its spend, then fails the job JOB_ABANDONED.
   */
  abandoned: z.boolean().optional(),
  abandonedAt: z.number().int().optional(),
  /** Times an operator retried this job after it failed (`runflow-queue retry-failed`); unset = 0. */
  manualRetries: z.number().int().optional(),
  /** 429s met by this job; they slow the fleet and park the job, guarded by a maximum. */
  rateLimited: z.number().int().optional(),
  /** The budget reservation held for this job (released or settled at the end). */
  reservation: z.object({ amountMicroUsd: z.number().int(), day: z.string(), month: z.string() }).optional(),
  /**
   * Written only with tracing on: when (epoch ms) and why the job last parked, and until when, so the
   * wake-up — in any worker — reports the park as a span.
   */
  tracePark: z.object({ at: z.number(), wakeAt: z.number(), reason: z.string() }).optional(),
};

// Loose: fields this version does not know (written by a newer deploy) survive when this version
// writes the job back, so a rollback does not strip them. A discriminated union on `step`: a job that
// is `submitting` has the clientRef its POST carries, a `submitted` one the id of its run.
export const QueuedJobData = z.looseObject({ ...common, step: z.literal('queued') });
export type QueuedJobData = z.infer<typeof QueuedJobData>;
export const SubmittingJobData = z.looseObject({ ...common, step: z.literal('submitting'), clientRef: z.string() });
export type SubmittingJobData = z.infer<typeof SubmittingJobData>;
export const SubmittedJobData = z.looseObject({ ...common, step: z.literal('submitted'), runId: z.string() });
export type SubmittedJobData = z.infer<typeof SubmittedJobData>;

export const EditJobData = z.discriminatedUnion('step', [QueuedJobData, SubmittingJobData, SubmittedJobData]);
export type EditJobData = z.infer<typeof EditJobData>;

export const CompletedBy = z.enum(['callback', 'poll']);
export type CompletedBy = z.infer<typeof CompletedBy>;

export const EditResult = z.object({
  runId: z.string(),
  status: z.string(),
  outputs: z.array(RunOutputItem),
  costMicroUsd: z.number().int(),
  completedBy: CompletedBy,
  timings: z.object({
    enqueuedAt: z.number().int(),
    submittedAt: z.number().int(),
    completedAt: z.number().int(),
    runDurationMs: z.number().nullish(),
  }),
  /** Runflow's output URLs are presigned and expire (observed: about 3 days): copy them before then. */
  outputsExpireAt: z.number().int().optional(),
});
export type EditResult = z.infer<typeof EditResult>;
