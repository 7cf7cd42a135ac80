import { registerHttpCore, sendError } from '@runflow-queue/http-core';
import {
  BulkValidationError,
  type CallerEditRequest,
  type CancelResult,
  type EditProducer,
  type EnqueueOptions,
} from '@runflow-queue/producer';
import {
  EditValidationError,
  type ErrorCode,
  type FieldIssue,
  MAX_BODY_DEPTH,
  RunflowQueueError,
  type ServerLimits,
  serverLimitOptions,
  tooDeep,
} from '@runflow-queue/shared';
import { DEFAULT_PREFIX, type RedisClient } from '@runflow-queue/store';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { registerAdminRoutes } from './admin-routes.ts';
import type { ApiCaller } from './api-callers.ts';
import { MAX_BATCH_ITEMS } from './api-schemas.ts';
import { createTokenCheck } from './bearer-auth.ts';
import { API_LIMITS } from './env.ts';
import { buildOpenApiDocument } from './openapi-document.ts';

export interface ApiDeps {
  /** The producer every route enqueues through (so validation is the producer's, exactly). */
  producer: EditProducer;
  /** For /readyz. */
  redis: RedisClient;
  /** Queues callers may use; the first is the default. */
  queues: readonly string[];
  /**
   * Trusted bearer tokens and whose they are. A bare string is caller `default`. A caller sees, waits
   * on and cancels only its own jobs (404 for another's); an admin sees all.
   */
  tokens: readonly (string | ApiCaller)[];
  logger: Logger;
  bodyLimitBytes?: number;
  /** Slow-client timeouts and the connection cap (default: API_LIMITS). */
  limits?: ServerLimits;
  /** How long DELETE waits for a worker to let go of an active job before answering JOB_BUSY (default 5 s). */
  cancelWaitMs?: number;
  /** The Runflow account's holds for /v1/admin/*: the key prefix and the workers' RATE_LIMIT_KEY / RUNFLOW_API_KEY. */
  holds?: { prefix: string; accountKey: string | undefined };
}

/** Longest long poll of GET /v1/edits/:id?waitMs= (under a load balancer's usual 60 s idle timeout). */
export const MAX_WAIT_MS = 55_000;

const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/openapi.json']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const CANCEL_STATUS: Record<CancelResult['outcome'], { status: number; code?: ErrorCode }> = {
  removed: { status: 200 },
  abandoned: { status: 202 },
  already_finished: { status: 409, code: 'JOB_ALREADY_FINISHED' },
  not_found: { status: 404, code: 'JOB_NOT_FOUND' },
  busy: { status: 409, code: 'JOB_BUSY' },
};

/**
 * A `{queue?, items: [...], ...extra}` body (batch, quote): its fields, or EditValidationError naming
 * a missing items array, unknown fields and an item count outside 1..MAX_BATCH_ITEMS.
 */
function itemsBody(
  body: unknown,
  extra: readonly string[],
  what: string,
): Record<string, unknown> & { items: unknown[] } {
  if (!isRecord(body) || !Array.isArray(body.items)) {
    throw new EditValidationError([
      { path: 'items', value: isRecord(body) ? body.items : body, message: 'send {"items": [edit requests…]}' },
    ]);
  }
  const known = ['queue', ...extra, 'items'];
  const issues: FieldIssue[] = Object.keys(body)
    .filter((key) => !known.includes(key))
    .map((key) => ({
      path: key,
      value: body[key],
      message: `unknown field; ${what} has ${known.slice(0, -1).join(', ')} and items`,
    }));
  if (body.items.length === 0 || body.items.length > MAX_BATCH_ITEMS) {
    issues.push({ path: 'items', value: body.items.length, message: `send 1 to ${MAX_BATCH_ITEMS} items` });
  }
  if (issues.length > 0) throw new EditValidationError(issues);
  return body as Record<string, unknown> & { items: unknown[] };
}

/** 422 INVALID_INPUT with every item's issues, their paths under `items.<index>`. */
function sendItemErrors(reply: FastifyReply, error: BulkValidationError) {
  return sendError(reply, 'INVALID_INPUT', error.message, {
    issues: error.items.flatMap(({ index, issues }) =>
      issues.map((issue) => ({ ...issue, path: `items.${index}.${issue.path}` })),
    ),
    items: error.items,
  });
}

/**
 * The internal HTTP API in front of the producer: enqueue (single, batch), quote, status, cancel. Every
 * /v1 route needs a bearer token; validation, idempotency and cancellation are the producer's own.
 */
export function buildApp(deps: ApiDeps): FastifyInstance {
  const bodyLimit = deps.bodyLimitBytes ?? 5 * 1024 * 1024;
  const limits = deps.limits ?? API_LIMITS;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit,
    ...serverLimitOptions(limits),
  }) as unknown as FastifyInstance;
  app.server.maxConnections = limits.maxConnections;
  // JSON only: a text/plain body would otherwise reach the routes as a string.
  app.removeContentTypeParser('text/plain');
  const { producer } = deps;
  const callerOf = createTokenCheck(deps.tokens);
  const callers = new WeakMap<FastifyRequest, ApiCaller>();
  /** Whose request this is: the caller to record on new jobs, and the scope of look-ups (none: admin). */
  const who = (request: FastifyRequest) => {
    const caller = callers.get(request) as ApiCaller;
    return { name: caller.name, scope: caller.admin ? undefined : caller.name };
  };
  const defaultQueue = deps.queues[0];
  const openapi = buildOpenApiDocument({ queues: deps.queues });

  app.addHook('onRequest', async (request, reply) => {
    if (PUBLIC_PATHS.has(request.url.split('?')[0])) return;
    const caller = callerOf(request.headers.authorization);
    if (!caller) {
      reply.header('www-authenticate', 'Bearer');
      return sendError(reply, 'API_UNAUTHENTICATED', 'send Authorization: Bearer <token> with a token from API_TOKENS');
    }
    callers.set(request, caller);
  });

  // Before any route reads the body: a 100,000-deep array would overflow every recursive walk after
  // this (validation, the issue list, the response serializer).
  app.addHook('preValidation', async (request, reply) => {
    if (request.body !== undefined && tooDeep(request.body)) {
      return sendError(reply, 'BODY_TOO_DEEP', `the body nests deeper than ${MAX_BODY_DEPTH} levels`);
    }
  });

  // Our codes, not fastify's, for the body errors a caller can make; /healthz, /readyz (Redis).
  registerHttpCore(app, {
    bodyLimitBytes: bodyLimit,
    bodyErrors: {
      tooLarge: 'BODY_TOO_LARGE',
      unsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
      malformedJson: 'MALFORMED_JSON',
    },
    ready: () => deps.redis.ping(),
  });

  /** The queue a request names, or the default; throws UNKNOWN_QUEUE naming the allowed ones. */
  const queueOf = (value: unknown): string => {
    const name = value === undefined ? defaultQueue : value;
    if (typeof name !== 'string' || !deps.queues.includes(name)) {
      throw new RunflowQueueError(
        'UNKNOWN_QUEUE',
        `queue ${JSON.stringify(name)} is not served by this API; use one of: ${deps.queues.join(', ')}`,
      );
    }
    return name;
  };
  const statusUrl = (queue: string, id: string) => `/v1/edits/${encodeURIComponent(id)}?queue=${queue}`;

  /** The Idempotency-Key header into the request; a different key in the body as well is an error. */
  const withHeaderKey = (body: Record<string, unknown>, key: string | undefined, path = 'idempotencyKey') => {
    if (key === undefined) return body;
    if (body.idempotencyKey !== undefined && body.idempotencyKey !== key) {
      throw new EditValidationError([
        { path, value: body.idempotencyKey, message: 'differs from the Idempotency-Key header; send the key once' },
      ]);
    }
    return { ...body, idempotencyKey: key };
  };

  app.post('/v1/edits', async (request, reply) => {
    const body = request.body;
    if (!isRecord(body)) {
      throw new EditValidationError([{ path: '(root)', value: body, message: 'send a JSON object (an edit request)' }]);
    }
    const { queue: queueField, priority, delayMs, ...rest } = body;
    const queue = queueOf(queueField);
    const edit = withHeaderKey(rest, header(request, 'idempotency-key'));
    const handle = await producer.enqueueEdit(
      queue,
      edit as CallerEditRequest,
      {
        priority,
        delayMs,
        caller: who(request).name,
      } as EnqueueOptions,
    );
    return reply.code(202).send({
      id: handle.id,
      queue,
      deduplicated: handle.deduplicated,
      statusUrl: statusUrl(queue, handle.id),
    });
  });

  // `::` escapes the colon: the path is literally /v1/edits:batch.
  app.post('/v1/edits::batch', async (request, reply) => {
    const { queue: queueField, priority, delayMs, items } = itemsBody(request.body, ['priority', 'delayMs'], 'a batch');
    const queue = queueOf(queueField);
    const key = header(request, 'idempotency-key');
    const edits = items.map((item, index) =>
      isRecord(item) && key !== undefined && item.idempotencyKey === undefined
        ? { ...item, idempotencyKey: `${key}:${index}` }
        : item,
    );
    try {
      const handles = await producer.enqueueEdits(
        queue,
        edits as CallerEditRequest[],
        {
          priority,
          delayMs,
          caller: who(request).name,
        } as EnqueueOptions,
      );
      return reply.code(202).send({
        queue,
        items: handles.map((handle, index) => ({
          index,
          id: handle.id,
          queue,
          deduplicated: handle.deduplicated,
          statusUrl: statusUrl(queue, handle.id),
        })),
      });
    } catch (error) {
      if (!(error instanceof BulkValidationError)) throw error;
      return sendItemErrors(reply, error);
    }
  });

  // Nothing is enqueued and no Runflow request is made; invalid items answer as a batch would.
  app.post('/v1/edits::quote', async (request, reply) => {
    const { queue: queueField, items } = itemsBody(request.body, [], 'a quote');
    const queue = queueOf(queueField);
    try {
      return reply.send(await producer.quote(queue, items as CallerEditRequest[]));
    } catch (error) {
      if (!(error instanceof BulkValidationError)) throw error;
      return sendItemErrors(reply, error);
    }
  });

  app.get('/v1/edits/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const query = request.query as { queue?: string; waitMs?: string };
    const queue = queueOf(query.queue);
    const scope = { caller: who(request).scope };
    if (query.waitMs !== undefined) {
      // Long poll: answer once the job has finished, or after waitMs with the job as it is then.
      const waitMs = Number(query.waitMs);
      if (!Number.isSafeInteger(waitMs) || waitMs < 1 || waitMs > MAX_WAIT_MS) {
        throw new EditValidationError(
          [{ path: 'waitMs', value: query.waitMs, message: `must be a whole number of ms from 1 to ${MAX_WAIT_MS}` }],
          'query',
        );
      }
      await producer.waitForResult(queue, id, { ...scope, timeoutMs: waitMs }).catch((error: unknown) => {
        // Finished failed, or still running: the status below says which. Not found: the caller's 404.
        if (error instanceof RunflowQueueError && error.code === 'JOB_NOT_FOUND') throw error;
      });
    }
    // Another caller's job answers exactly like no job: ids are sequential, existence is not a secret to leak.
    const status = await producer.getEdit(queue, id, scope);
    if (!status) {
      return sendError(reply, 'JOB_NOT_FOUND', `no job ${id} in queue ${queue} (or it is past its retention window)`);
    }
    return status;
  });

  app.delete('/v1/edits/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const queue = queueOf((request.query as { queue?: string }).queue);
    const result = await producer.cancelEdit(queue, id, {
      waitActiveMs: deps.cancelWaitMs ?? 5_000,
      caller: who(request).scope,
    });
    const { status, code } = CANCEL_STATUS[result.outcome];
    return reply.code(status).send(code ? { code, ...result } : result);
  });

  registerAdminRoutes(app, {
    redis: deps.redis,
    prefix: deps.holds?.prefix ?? DEFAULT_PREFIX,
    accountKey: deps.holds?.accountKey,
    queueOf,
    adminOf: (request) => {
      const caller = callers.get(request);
      return caller?.admin ? caller.name : undefined;
    },
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
  );
  app.get('/openapi.json', async () => openapi);
  return app;
}
