import { sendError } from '@runflow-queue/http-core';
import type { EditProducer } from '@runflow-queue/producer';
import type { ErrorCode } from '@runflow-queue/shared';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BOARD_PATH } from './board.ts';
import { boardJob } from './board-job-request.ts';
import type { DashboardRole } from './check-credentials.ts';

// Who may change what on the board. Every write request of this app is Bull Board's API (PUT, POST,
// PATCH under /queues/api): viewers never get one through, operators only from the board's own origin,
// never Update data on an edit job, and Add job only through the producer's validation.

export interface BoardAccess {
  roleOf: (request: FastifyRequest) => DashboardRole | undefined;
  readOnly: (queue: string) => boolean;
  producer: EditProducer | undefined;
  /** Origins a browser may send writes from (e.g. https://ops.example.com); unset: the request's Host. */
  allowedOrigins?: readonly string[] | undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Bull Board's error statuses → our codes (its body keeps its own translation key). */
const BOARD_ERROR_CODES: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST',
  404: 'NOT_FOUND',
  405: 'QUEUE_READ_ONLY',
  500: 'INTERNAL',
};
const QUEUE_ROUTE = new RegExp(`^${BOARD_PATH}/api/queues/([^/]+)(/.*)?$`);

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * CSRF: a browser sends `Origin` on every cross-origin request and on every same-origin write, and
 * `Sec-Fetch-Site` on https and localhost; a page elsewhere cannot forge either. Basic credentials are
 * what a browser would attach for the attacker, so a write that a browser marks as coming from another
 * site is refused. A client that sends neither header is not a browser (curl, a script with a token).
 */
export function sameOriginWrite(request: FastifyRequest, allowedOrigins?: readonly string[]): boolean {
  const site = header(request, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = header(request, 'origin');
  if (origin === undefined) return true;
  if (allowedOrigins && allowedOrigins.length > 0) return allowedOrigins.includes(origin);
  try {
    return new URL(origin).host === header(request, 'host');
  } catch {
    return false; // "null" (a sandboxed frame, a file: page) or garbage
  }
}

function queueOf(path: string): { queue: string; action: string } | undefined {
  const match = QUEUE_ROUTE.exec(path);
  if (!match) return undefined;
  return { queue: decodeURIComponent(match[1]), action: match[2] ?? '' };
}

/** Installs the role, origin and data checks in front of Bull Board's write routes. */
export function guardBoardWrites(app: FastifyInstance, access: BoardAccess): void {
  // Before the body is read: a viewer's write is refused whatever it carries.
  app.addHook('onRequest', async (request, reply) => {
    if (SAFE_METHODS.has(request.method)) return;
    const role = access.roleOf(request);
    if (role === undefined) return; // the credential check answers 401 first
    if (role !== 'operator') {
      return sendError(reply, 'FORBIDDEN', 'this credential may only view; write actions need the operator credential');
    }
    if (!sameOriginWrite(request, access.allowedOrigins)) {
      return sendError(
        reply,
        'CROSS_ORIGIN_WRITE',
        'write requests must come from the dashboard itself (Origin check)',
      );
    }
    // JSON or no body: the types a cross-site form can send (text/plain, form encodings) never reach a handler.
    const type = header(request, 'content-type');
    if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type)) {
      return sendError(reply, 'UNSUPPORTED_MEDIA_TYPE', 'write actions take application/json bodies');
    }
    const target = queueOf(request.url.split('?')[0]);
    if (target && target.action !== '' && access.readOnly(target.queue)) {
      return sendError(reply, 'QUEUE_READ_ONLY', `queue ${target.queue} is read-only on this dashboard`);
    }
    if (target && /^\/[^/]+\/update-data$/.test(target.action)) {
      // An edit job's data is the worker's state (step, run, reservation): written back from the board
      // it would carry "[redacted]" into the job and could hand the job another run. Add a new job instead.
      return sendError(reply, 'ACTION_DISABLED', 'Update data is disabled for edit queues; add a new job instead');
    }
  });

  // Add job: the producer's validation with a coded 422, before Bull Board's handler runs.
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST') return;
    const target = queueOf(request.url.split('?')[0]);
    if (target?.action !== '/add') return;
    if (!access.producer) return sendError(reply, 'ACTION_DISABLED', 'adding jobs is not configured on this dashboard');
    const job = boardJob(access.producer, request.body);
    if ('issues' in job) {
      return sendError(reply, 'INVALID_INPUT', `invalid board job: ${job.issues.map((i) => i.path).join(', ')}`, {
        issues: job.issues,
      });
    }
    if (job.dropped.length > 0)
      request.log.info({ queue: target.queue, dropped: job.dropped }, 'board job: worker fields dropped');
  });

  // Bull Board's own errors ({error: {key}}) get one of our codes beside their key.
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode < 400 || typeof payload !== 'string' || !request.url.startsWith(`${BOARD_PATH}/api/`)) {
      return payload;
    }
    try {
      const body = JSON.parse(payload) as Record<string, unknown>;
      if (body.code !== undefined || body.error === undefined) return payload;
      return JSON.stringify({ code: BOARD_ERROR_CODES[reply.statusCode] ?? 'BAD_REQUEST', ...body });
    } catch {
      return payload;
    }
  });

  // What the board draws for a viewer: every queue read-only (no retry, clean, add, pause buttons).
  app.addHook('onSend', async (request, _reply, payload) => {
    if (request.method !== 'GET' || access.roleOf(request) === 'operator') return payload;
    if (request.url.split('?')[0] !== `${BOARD_PATH}/api/queues` || typeof payload !== 'string') return payload;
    try {
      const body = JSON.parse(payload) as { queues?: Record<string, unknown>[] };
      for (const queue of body.queues ?? []) {
        queue.readOnlyMode = true;
        queue.allowRetries = false;
        queue.allowCompletedRetries = false;
      }
      return JSON.stringify(body);
    } catch {
      return payload;
    }
  });
}
