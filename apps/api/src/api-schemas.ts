import { MAX_DELAY_MS } from '@runflow-queue/producer';
import { EditRequest, EditResult, JobStep, JobTags } from '@runflow-queue/shared';
import { z } from 'zod';

// The API's request and response shapes, for the OpenAPI document. Bodies are validated by the
// producer (so the API's 422 issues are the producer's, field for field); these schemas describe them.

/** Largest batch accepted by POST /v1/edits:batch. */
export const MAX_BATCH_ITEMS = 1000;
const MAX_PRIORITY = 2_097_152;

const enqueueFields = {
  priority: z
    .number()
    .int()
    .min(1)
    .max(MAX_PRIORITY)
    .optional()
    .describe('1 runs first; equal priorities FIFO; default 1000'),
  delayMs: z
    .number()
    .int()
    .min(0)
    .max(MAX_DELAY_MS)
    .optional()
    .describe('wait this long (ms, at most 7 days) before the job may start'),
};
const notifyUrl = z
  .string()
  .max(2048)
  .optional()
  .describe('https URL that receives a signed edit.completed / edit.failed webhook (Standard Webhooks)');
const queue = z.string().optional().describe('one of the configured QUEUES; default: the first');

const [proRequest, nb2Request] = EditRequest.options;

/** One edit request as a caller writes it: model + input (per model), idempotencyKey, tags, notifyUrl. */
export const EditItem = z.discriminatedUnion('model', [
  proRequest.extend({ notifyUrl }),
  nb2Request.extend({ notifyUrl }),
]);

/** POST /v1/edits: an edit request plus where and how to enqueue it. */
export const CreateEditBody = z.discriminatedUnion('model', [
  proRequest.extend({ notifyUrl, queue, ...enqueueFields }),
  nb2Request.extend({ notifyUrl, queue, ...enqueueFields }),
]);

export const BatchBody = z.strictObject({
  queue,
  ...enqueueFields,
  items: z.array(EditItem).min(1).max(MAX_BATCH_ITEMS),
});

/** POST /v1/edits:quote: the requests to price; nothing is enqueued. */
export const QuoteRequestBody = z.strictObject({
  queue,
  items: z.array(EditItem).min(1).max(MAX_BATCH_ITEMS),
});

const microUsd = z.number().int().describe('integer micro-USD (1 USD = 1,000,000)');
const budgetWindow = z.object({
  policy: z.enum(['hold', 'fail']),
  window: z.enum(['day', 'month']),
  capMicroUsd: microUsd,
  spentMicroUsd: microUsd,
  reservedMicroUsd: microUsd,
  remainingMicroUsd: microUsd,
  remainingAfterMicroUsd: microUsd.describe('what would remain after these requests (negative: over by that much)'),
  admits: z.boolean(),
});

export const QuoteBody = z.object({
  queue: z.string(),
  count: z.number().int(),
  totalMicroUsd: microUsd.describe('as the ledger books it: the price table, every requested image delivered'),
  estimated: z.boolean().describe('true when a price has an estimated part (see lines[].estimates)'),
  budget: z
    .object({ admits: z.boolean(), windows: z.array(budgetWindow) })
    .optional()
    .describe('absent when the queue has no budget'),
  eta: z.object({
    ahead: z.number().int().describe('jobs before these in the queue'),
    requestsPerSecond: z.number().describe("the queue's share of the account's request rate"),
    requestsPerJob: z.number().describe('one create plus the polls recent jobs needed'),
    runMs: z.number().int().describe('median submit → result of recent jobs'),
    etaMs: z.number().int().describe('when the last result should be in, from now'),
    doneAt: z.string(),
    basis: z.array(z.string()).describe('how each figure was arrived at'),
  }),
  lines: z.array(
    z.object({
      index: z.number().int(),
      model: z.string(),
      images: z.number().int(),
      perImageMicroUsd: microUsd,
      costMicroUsd: microUsd,
      estimates: z.array(z.string()),
      cumulativeMicroUsd: microUsd,
      admitted: z.boolean().optional(),
      etaMs: z.number().int(),
      refusal: z.string().optional().describe('the code the job would fail with before any money moves'),
    }),
  ),
});

export const FieldIssue = z.object({
  path: z.string().describe('e.g. input.resolution, notifyUrl, items.3.input.prompt'),
  value: z.unknown().optional().describe('what was sent (absent when missing)'),
  message: z.string(),
  allowed: z.array(z.unknown()).optional().describe('the accepted values, for enums'),
});

export const ErrorBody = z.object({
  code: z.string().describe('stable error code, e.g. INVALID_INPUT, IDEMPOTENCY_KEY_REUSED, API_UNAUTHENTICATED'),
  message: z.string(),
  issues: z.array(FieldIssue).optional(),
  items: z.array(z.object({ index: z.number().int(), issues: z.array(FieldIssue) })).optional(),
});

export const Enqueued = z.object({
  id: z.string(),
  queue: z.string(),
  deduplicated: z.boolean().describe('true: the idempotency key matched an existing job; nothing new was enqueued'),
  statusUrl: z.string(),
});

export const BatchEnqueued = z.object({
  queue: z.string(),
  items: z.array(Enqueued.extend({ index: z.number().int() })),
});

export const EditStatusBody = z.object({
  id: z.string(),
  queue: z.string(),
  state: z
    .string()
    .describe(
      'BullMQ state: waiting, prioritized, delayed (also: parked while the run works), active, completed, failed',
    ),
  step: JobStep.optional(),
  model: z.string(),
  runId: z.string().optional(),
  enqueuedAt: z.number().int(),
  finishedAt: z.number().int().optional(),
  priority: z.number().int().optional(),
  tags: JobTags.optional(),
  caller: z.string().describe('the named caller (API token) that enqueued the job; `default` when none'),
  notifyUrl: z.string().optional(),
  abandoned: z.boolean(),
  result: EditResult.optional().describe('when completed: outputs (presigned URLs), costMicroUsd, outputsExpireAt'),
  failure: z.object({ code: z.string().optional(), reason: z.string() }).optional(),
});

export const CancelBody = z.object({
  id: z.string(),
  queue: z.string(),
  outcome: z.enum(['removed', 'abandoned', 'already_finished', 'not_found', 'busy']),
  step: JobStep.optional(),
  runId: z.string().optional(),
  state: z.string().optional(),
  message: z.string(),
  code: z.string().optional().describe('for 404 / 409 answers'),
});
