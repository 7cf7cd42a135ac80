import { envFields, flag, list, queueNames } from '@runflow-queue/runtime';
import { parseConfig, type ServerLimits, serverLimitsEnv } from '@runflow-queue/shared';
import { z } from 'zod';
import { CallerEntry, DEFAULT_CALLER_NAME, duplicateTokens } from './api-callers.ts';

/** Slow clients: 5 MB bodies get 30 s; keep-alive outlasts a load balancer's usual 60 s idle timeout. */
export const API_LIMITS: ServerLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 72_000,
  idleTimeoutMs: 75_000,
  maxConnections: 5_000,
};

export const ApiEnv = z
  .object({
    REDIS_URL: envFields.REDIS_URL,
    REDIS_PREFIX: envFields.REDIS_PREFIX,
    /** Queues this API may enqueue to; the first is the default when a request names none. */
    QUEUES: queueNames().default(['edits']),
    /** The workers' workloads file: quotes then check the queue's budget and use its rate share. */
    WORKLOADS_FILE: z.string().min(1).optional(),
    /**
     * Comma-separated `name:token` pairs, one caller per calling service (rotation: two entries with the
     * same name). A caller sees, waits on and cancels only its own jobs; a bare token is caller `default`.
     */
    API_TOKENS: list('API_TOKENS').pipe(z.array(CallerEntry).min(1, 'set at least one token')),
    /** `name:token` pairs (or a bare token, named `admin`) that see and cancel every caller's jobs. */
    API_ADMIN_TOKENS: list('API_ADMIN_TOKENS')
      .default([])
      .pipe(z.array(CallerEntry))
      .transform((callers) =>
        callers.map((c) => ({ ...c, name: c.name === DEFAULT_CALLER_NAME ? 'admin' : c.name, admin: true })),
      ),
    /**
     * The Runflow account of the workers (their RATE_LIMIT_KEY, else RUNFLOW_API_KEY; only its hash is
     * used): /v1/admin/health, /pause and /resume act on its holds. Unset: those routes say so.
     */
    RATE_LIMIT_KEY: z.string().min(1).optional(),
    RUNFLOW_API_KEY: z.string().min(1).optional(),
    HOST: envFields.HOST,
    PORT: envFields.port(3200),
    BODY_LIMIT_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(5 * 1024 * 1024),
    /** Accept notifyUrl targets on loopback (http too): development only. Workers have the same switch. */
    NOTIFY_ALLOW_HTTP_LOOPBACK: flag,
    /** Accept notifyUrl targets on private networks (10/8, 172.16/12, 192.168/16, …). */
    NOTIFY_ALLOW_PRIVATE_NETWORKS: flag,
    ...serverLimitsEnv(API_LIMITS),
    LOG_LEVEL: envFields.LOG_LEVEL,
  })
  .refine((env) => !duplicateTokens([...env.API_TOKENS, ...env.API_ADMIN_TOKENS]), {
    path: ['API_TOKENS'],
    message: 'a token is listed twice (in API_TOKENS or API_ADMIN_TOKENS): each token belongs to one caller',
  });
export type ApiEnv = z.infer<typeof ApiEnv>;

/** Parses the API's environment once, at boot; the error names every bad variable (tokens hidden). */
export function parseEnv(source: Record<string, string | undefined>): ApiEnv {
  return parseConfig(ApiEnv, source, {
    app: 'api',
    secrets: ['API_TOKENS', 'API_ADMIN_TOKENS', 'RUNFLOW_API_KEY', 'RATE_LIMIT_KEY'],
  });
}
