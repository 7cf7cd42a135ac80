import { ERROR_CODES, type ErrorCode } from '@runflow-queue/shared';
import type { FastifyReply } from 'fastify';

/**
 * The one way an HTTP app answers an error: `{code, message, ...extra}` with the status the code has
 * in ERROR_CODES, so a code always means the same status whichever app sends it; a retryable code
 * with a known wait (REDIS_UNAVAILABLE) sends Retry-After too.
 */
export function sendError(reply: FastifyReply, code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
  const spec: { status: number; retryAfterSeconds?: number } = ERROR_CODES[code];
  if (spec.retryAfterSeconds !== undefined) reply.header('retry-after', String(spec.retryAfterSeconds));
  return reply.code(spec.status).send({ code, message, ...extra });
}
