import { ERROR_CODES, type ErrorCode } from '@runflow-queue/shared';
import type { FastifyReply } from 'fastify';

/**
 * The one way an HTTP app answers an error: `{code, message, ...extra}` with the status the code has
 * in ERROR_CODES, so a code always means the same status whichever app sends it.
 */
export function sendError(reply: FastifyReply, code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
  return reply.code(ERROR_CODES[code].status).send({ code, message, ...extra });
}
