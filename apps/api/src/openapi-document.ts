import { z } from 'zod';
import {
  BatchBody,
  BatchEnqueued,
  CancelBody,
  CreateEditBody,
  EditStatusBody,
  Enqueued,
  ErrorBody,
  QuoteBody,
  QuoteRequestBody,
} from './api-schemas.ts';

type JsonSchema = Record<string, unknown>;

/** A zod schema as an OpenAPI 3.1 schema object (JSON Schema 2020-12, without the `$schema` key). */
function schema(type: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(type, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ 'application/json': { schema: ref(name) } });
const error = (description: string) => ({ description, content: json('Error') });

const queueParam = {
  name: 'queue',
  in: 'query',
  required: false,
  description: 'the queue the job is in (default: the first of QUEUES)',
  schema: { type: 'string' },
};
const idParam = { name: 'id', in: 'path', required: true, description: 'the job id', schema: { type: 'string' } };
const idempotencyHeader = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'same key (per queue) → same job, never a second run, while the job is kept (24 h after it completes). ' +
    'On a batch, item i gets `<key>:<i>` unless it has its own idempotencyKey.',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};

/** The API's OpenAPI 3.1 document, generated from the zod schemas the API and producer share. */
export function buildOpenApiDocument(options: { queues: readonly string[]; serverUrl?: string }): JsonSchema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'runflow-queue API',
      version: '1.0.0',
      description:
        'Enqueue Runflow image edits, follow them, cancel them. Bearer-authenticated (API_TOKENS): each token ' +
        "belongs to a named caller, which sees, waits on and cancels only its own jobs (another caller's answer 404). " +
        `Queues: ${options.queues.join(', ')}.`,
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    security: [{ bearer: [] }],
    paths: {
      '/v1/edits': {
        post: {
          operationId: 'createEdit',
          summary: 'Enqueue one edit',
          parameters: [idempotencyHeader],
          requestBody: { required: true, content: json('CreateEdit') },
          responses: {
            '202': { description: 'enqueued (or deduplicated by its idempotency key)', content: json('Enqueued') },
            '400': error('the body is not JSON (MALFORMED_JSON) or nests too deep (BODY_TOO_DEEP)'),
            '401': error('missing or unknown bearer token'),
            '404': error('the queue is not one this API serves'),
            '409': error('the idempotency key was used before for a different request'),
            '422': error('validation failed: issues name each field, the value and the allowed values'),
          },
        },
      },
      '/v1/edits:batch': {
        post: {
          operationId: 'createEdits',
          summary: 'Enqueue many edits, all or nothing',
          parameters: [idempotencyHeader],
          requestBody: { required: true, content: json('CreateEditBatch') },
          responses: {
            '202': { description: 'all enqueued', content: json('BatchEnqueued') },
            '400': error('the body is not JSON (MALFORMED_JSON) or nests too deep (BODY_TOO_DEEP)'),
            '401': error('missing or unknown bearer token'),
            '404': error('the queue is not one this API serves'),
            '409': error('an idempotency key was used before for a different request'),
            '422': error('some items are invalid (errors by index in `items`); nothing was enqueued'),
          },
        },
      },
      '/v1/edits:quote': {
        post: {
          operationId: 'quoteEdits',
          summary: 'Price edits, check the budget and estimate when they would be done; nothing is enqueued',
          requestBody: { required: true, content: json('QuoteRequest') },
          responses: {
            '200': { description: 'the quote, per request and in total', content: json('Quote') },
            '400': error('the body is not JSON (MALFORMED_JSON) or nests too deep (BODY_TOO_DEEP)'),
            '401': error('missing or unknown bearer token'),
            '404': error('the queue is not one this API serves'),
            '422': error('some items are invalid (errors by index in `items`), as an enqueue would answer'),
          },
        },
      },
      '/v1/edits/{id}': {
        get: {
          operationId: 'getEdit',
          summary: 'Status, and the result or failure once finished',
          parameters: [
            idParam,
            queueParam,
            {
              name: 'waitMs',
              in: 'query',
              required: false,
              description: 'long poll: answer once the job has finished, or after this many ms (1 to 55000)',
              schema: { type: 'integer', minimum: 1, maximum: 55_000 },
            },
          ],
          responses: {
            '200': { description: 'the job', content: json('EditStatus') },
            '401': error('missing or unknown bearer token'),
            '404': error("no such job, another caller's job, or past its retention window"),
            '422': error('waitMs out of range'),
          },
        },
        delete: {
          operationId: 'cancelEdit',
          summary: 'Cancel: remove if not yet submitted, else abandon (the run is still paid for)',
          parameters: [idParam, queueParam],
          responses: {
            '200': { description: 'removed before submit: no run, nothing spent', content: json('Cancel') },
            '202': {
              description:
                'abandoned: Runflow has no public cancel; the run finishes and is paid for, then the job fails JOB_ABANDONED',
              content: json('Cancel'),
            },
            '401': error('missing or unknown bearer token'),
            '404': { description: "no such job, or another caller's", content: json('Cancel') },
            '409': {
              description: 'already finished (JOB_ALREADY_FINISHED) or held by a worker (JOB_BUSY)',
              content: json('Cancel'),
            },
          },
        },
      },
      '/v1/admin/health': {
        get: {
          operationId: 'accountHealth',
          summary: "Admin: what holds the account's submits (breaker, credit, pauses), governor, learned caps, Redis",
          responses: {
            '200': { description: 'each hold with its reason and since when', content: json('AccountHealth') },
            '401': error('missing or unknown bearer token'),
            '403': error('not an admin token (API_ADMIN_TOKENS)'),
            '404': error("RATE_LIMIT_KEY / RUNFLOW_API_KEY unset in the API's environment"),
          },
        },
      },
      '/v1/admin/pause': {
        post: {
          operationId: 'pauseSubmits',
          summary: 'Admin: stop new submits of the account (or one queue) until resumed; in-flight runs still finish',
          requestBody: { required: false, content: json('HoldTarget') },
          responses: {
            '200': { description: 'paused (every worker within 1 s)', content: json('Paused') },
            '400': error('unknown fields'),
            '401': error('missing or unknown bearer token'),
            '403': error('not an admin token (API_ADMIN_TOKENS)'),
            '404': error('an unknown queue, or the account is not configured'),
          },
        },
      },
      '/v1/admin/resume': {
        post: {
          operationId: 'resumeSubmits',
          summary: 'Admin: lift a pause of the account (or of one queue)',
          requestBody: { required: false, content: json('HoldTarget') },
          responses: {
            '200': { description: 'resumed: false when there was no such pause', content: json('Resumed') },
            '400': error('unknown fields'),
            '401': error('missing or unknown bearer token'),
            '403': error('not an admin token (API_ADMIN_TOKENS)'),
            '404': error('an unknown queue, or the account is not configured'),
          },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        CreateEdit: schema(CreateEditBody, 'input'),
        CreateEditBatch: schema(BatchBody, 'input'),
        Enqueued: schema(Enqueued, 'output'),
        BatchEnqueued: schema(BatchEnqueued, 'output'),
        EditStatus: schema(EditStatusBody, 'output'),
        Cancel: schema(CancelBody, 'output'),
        QuoteRequest: schema(QuoteRequestBody, 'input'),
        Quote: schema(QuoteBody, 'output'),
        Error: schema(ErrorBody, 'output'),
        AccountHealth: {
          type: 'object',
          description: 'holds {breaker, credit, pauses}, governor, learnedCaps, redis — see runflow-queue health',
        },
        HoldTarget: {
          type: 'object',
          additionalProperties: false,
          properties: {
            queue: { type: 'string', description: 'one queue (default: the whole account)' },
            reason: {
              type: 'string',
              maxLength: 500,
              description: 'pause only: why, shown by health and the dashboard',
            },
          },
        },
        Paused: {
          type: 'object',
          properties: {
            paused: {
              type: 'object',
              properties: {
                queue: { type: ['string', 'null'] },
                reason: { type: 'string' },
                by: { type: 'string' },
                since: { type: 'string', format: 'date-time' },
              },
            },
          },
        },
        Resumed: {
          type: 'object',
          properties: { resumed: { type: 'boolean' }, queue: { type: ['string', 'null'] } },
        },
      },
    },
  };
}
