import { z } from 'zod';
import { MODEL_IDS, ModelIdField } from './models.ts';

// The workloads file: which queues exist, what they may run, how they share the account's rate limit
// and how much they may spend. Validated once at boot; an error names the key path.

/** Queue names: they become a Redis hash tag and part of every key of the queue. */
export const QUEUE_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const QueueName = z.string().regex(QUEUE_NAME_PATTERN, 'lowercase letters, digits, - and _ (max 63)');
const Model = ModelIdField;

export const BudgetPolicy = z.enum(['hold', 'fail']);
export type BudgetPolicy = z.infer<typeof BudgetPolicy>;

export const QueueBudget = z
  .strictObject({
    /** Per UTC day. */
    dailyUsd: z.number().positive().optional(),
    /** Per UTC calendar month. */
    monthlyUsd: z.number().positive().optional(),
    /** `hold`: jobs wait for the next window. `fail`: they fail BUDGET_EXCEEDED. */
    policy: BudgetPolicy.default('hold'),
  })
  .refine((b) => b.dailyUsd !== undefined || b.monthlyUsd !== undefined, {
    message: 'set dailyUsd and/or monthlyUsd',
  });
export type QueueBudget = z.infer<typeof QueueBudget>;

export const WorkloadQueue = z.strictObject({
  name: QueueName,
  /** Models this queue may run; a job for another model fails MODEL_NOT_ALLOWED before any money moves. */
  models: z
    .array(Model)
    .min(1)
    .default([...MODEL_IDS]),
  /** Jobs one worker holds at once for this queue (parked jobs hold none). */
  concurrency: z.number().int().min(1).max(1000).default(16),
  /** Weight of this queue in the fleet-wide rate limit, among the queues asking for requests now. */
  share: z.number().positive().default(1),
  /** Hard deadline of a run, from submit. */
  deadlineMs: z
    .number()
    .int()
    .positive()
    .default(15 * 60_000),
  /** Upper bound on attempts for unexpected errors (Runflow's retryable errors never use attempts). */
  attempts: z.number().int().min(1).max(100).default(3),
  budget: QueueBudget.optional(),
});
export type WorkloadQueue = z.infer<typeof WorkloadQueue>;

export const RateLimitConfig = z.strictObject({
  /** The account's request rate, shared by every queue and replica (creates and polls). */
  requestsPerSecond: z.number().positive().max(10_000).default(20),
  /** Requests that may go at once after a quiet spell. */
  burst: z.number().int().min(1).max(10_000).default(20),
});
export type RateLimitConfig = z.infer<typeof RateLimitConfig>;

export const WorkloadsConfig = z
  .strictObject({
    rateLimit: RateLimitConfig.default({ requestsPerSecond: 20, burst: 20 }),
    /** Optional cap of runs in flight on Runflow per model, across queues and replicas. */
    models: z.partialRecord(Model, z.strictObject({ maxInFlight: z.number().int().positive() })).default({}),
    queues: z.array(WorkloadQueue).min(1),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.queues.forEach((queue, index) => {
      if (seen.has(queue.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['queues', index, 'name'],
          message: `queue ${queue.name} is declared twice`,
        });
      }
      seen.add(queue.name);
    });
  });
export type WorkloadsConfig = z.infer<typeof WorkloadsConfig>;
export type WorkloadsConfigInput = z.input<typeof WorkloadsConfig>;
