import { sendError } from '@runflow-queue/http-core';
import { readAccountHealth } from '@runflow-queue/stats';
import { AccountHolds, type RedisClient } from '@runflow-queue/store';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** The Runflow account whose holds the admin routes show and change (the workers' key family). */
export interface AdminHoldsDeps {
  redis: RedisClient;
  prefix: string;
  /** The workers' RATE_LIMIT_KEY, else their RUNFLOW_API_KEY; unset: the routes say how to set it. */
  accountKey: string | undefined;
  /** Throws UNKNOWN_QUEUE for a queue this API does not serve. */
  queueOf: (value: unknown) => string;
  /** The caller's name when it holds an admin token, else undefined. */
  adminOf: (request: FastifyRequest) => string | undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Operator controls over HTTP, admin tokens only: GET /v1/admin/health (what holds the account's
 * submits, why, since when), POST /v1/admin/pause and /v1/admin/resume `{queue?, reason?}` — the same
 * Redis holds `runflow-queue pause` writes, honoured by every worker within a second.
 */
export function registerAdminRoutes(app: FastifyInstance, deps: AdminHoldsDeps): void {
  type Guarded =
    | { ok: false; code: 'FORBIDDEN' | 'NOT_FOUND'; message: string }
    | { ok: true; admin: string; holds: AccountHolds };
  const guard = (request: FastifyRequest): Guarded => {
    const admin = deps.adminOf(request);
    if (admin === undefined) {
      return { ok: false, code: 'FORBIDDEN', message: 'the admin routes need a token from API_ADMIN_TOKENS' };
    }
    if (!deps.accountKey) {
      return {
        ok: false,
        code: 'NOT_FOUND',
        message:
          "the admin routes need the Runflow account: set RATE_LIMIT_KEY (or RUNFLOW_API_KEY) in the API's environment, as the workers have it",
      };
    }
    return {
      ok: true,
      admin,
      holds: new AccountHolds(deps.redis, { prefix: deps.prefix, accountKey: deps.accountKey }),
    };
  };
  /** `{queue?, reason?}`; queue must be one this API serves. */
  const target = (body: unknown, allowReason: boolean) => {
    const value = body ?? {};
    if (!isRecord(value))
      throw Object.assign(new TypeError('send a JSON object {queue?, reason?}'), { statusCode: 400 });
    const unknown = Object.keys(value).filter((k) => k !== 'queue' && !(allowReason && k === 'reason'));
    if (unknown.length > 0 || (value.reason !== undefined && typeof value.reason !== 'string')) {
      return {
        invalid: `unknown fields ${unknown.join(', ') || '(none)'}: send {queue?${allowReason ? ', reason?: string' : ''}}`,
      };
    }
    return {
      queue: value.queue === undefined ? undefined : deps.queueOf(value.queue),
      reason: typeof value.reason === 'string' ? value.reason.slice(0, 500) : '',
    };
  };

  app.get('/v1/admin/health', async (request, reply) => {
    const checked = guard(request);
    if (!checked.ok) return sendError(reply, checked.code, checked.message);
    return readAccountHealth(deps.redis, { prefix: deps.prefix, accountKey: deps.accountKey as string });
  });

  app.post('/v1/admin/pause', async (request, reply) => {
    const checked = guard(request);
    if (!checked.ok) return sendError(reply, checked.code, checked.message);
    const t = target(request.body, true);
    if ('invalid' in t) return sendError(reply, 'BAD_REQUEST', t.invalid as string);
    const hold = await checked.holds.pause(t.queue, t.reason, checked.admin);
    return {
      paused: {
        queue: hold.queue ?? null,
        reason: hold.reason,
        by: hold.by,
        since: new Date(hold.since).toISOString(),
      },
    };
  });

  app.post('/v1/admin/resume', async (request, reply) => {
    const checked = guard(request);
    if (!checked.ok) return sendError(reply, checked.code, checked.message);
    const t = target(request.body, false);
    if ('invalid' in t) return sendError(reply, 'BAD_REQUEST', t.invalid as string);
    return { resumed: await checked.holds.resume(t.queue), queue: t.queue ?? null };
  });
}
