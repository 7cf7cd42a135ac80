import { EditValidationError, type ErrorCode, RunflowQueueError } from '@runflow-queue/shared';
import type { FastifyInstance } from 'fastify';
import { sendError } from './send-error.ts';

// What every HTTP app of ours shares: the error mapping (our coded errors, fastify's body errors, and
// the unexpected ones), and the health routes. Registered on the root instance by each buildApp.

export interface HttpCoreOptions {
  bodyLimitBytes: number;
  /** The code each body error is answered with; one left out is answered BAD_REQUEST. */
  bodyErrors?: {
    tooLarge?: ErrorCode;
    unsupportedMediaType?: ErrorCode;
    malformedJson?: ErrorCode;
  };
  /** How an unexpected error is answered (default 500 INTERNAL); the dashboard says 503: Redis is away. */
  unexpected?: { code: ErrorCode; message: string };
  /** Logged with an unexpected error. */
  failureMessage?: string;
  /** GET /readyz answers 503 while this rejects (a Redis ping); without it there is no /readyz. */
  ready?: () => Promise<unknown>;
}

const MALFORMED_JSON = new Set(['FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY']);

export function registerHttpCore(app: FastifyInstance, options: HttpCoreOptions): void {
  const body = options.bodyErrors ?? {};
  const unexpected = options.unexpected ?? { code: 'INTERNAL', message: 'internal error' };
  app.setErrorHandler((error: { code?: string; statusCode?: number; message: string }, request, reply) => {
    if (error instanceof EditValidationError)
      return sendError(reply, error.code, error.message, { issues: error.issues });
    if (error instanceof RunflowQueueError) return sendError(reply, error.code, error.message);
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' && body.tooLarge)
      return sendError(reply, body.tooLarge, `body over ${options.bodyLimitBytes} bytes`);
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' && body.unsupportedMediaType)
      return sendError(reply, body.unsupportedMediaType, 'send Content-Type: application/json');
    if (error.code !== undefined && MALFORMED_JSON.has(error.code) && body.malformedJson)
      return sendError(reply, body.malformedJson, `${error.message}; send a JSON object`);
    if ((error.statusCode ?? 500) < 500) return sendError(reply, 'BAD_REQUEST', error.message);
    request.log.error({ err: error, url: request.url }, options.failureMessage ?? 'request failed');
    return sendError(reply, unexpected.code, unexpected.message);
  });

  // Liveness answers from memory; readiness asks what the app cannot serve without.
  app.get('/healthz', async () => ({ ok: true }));
  const { ready } = options;
  if (ready) {
    app.get('/readyz', async (_request, reply) => {
      try {
        await ready();
        return { ok: true };
      } catch {
        return reply.code(503).send({ ok: false, reason: 'redis unreachable' });
      }
    });
  }
}
