import { envFields, list, queueNames } from '@runflow-queue/runtime';
import { parseConfig, type ServerLimits, serverLimitsEnv } from '@runflow-queue/shared';
import { z } from 'zod';

/**
 * The public, unauthenticated endpoint reads the body before it can check the signature: slow clients
 * are cut (request 10 s whole, headers 5 s, idle kept-alive 5 s, silence 10 s) and at most 1,000
 * connections are held. Runflow's callbacks are a few KB and arrive in milliseconds.
 */
export const INGEST_LIMITS: ServerLimits = {
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 10_000,
  maxConnections: 1_000,
};

export const IngestEnv = z.object({
  REDIS_URL: envFields.REDIS_URL,
  REDIS_PREFIX: envFields.REDIS_PREFIX,
  HOST: envFields.HOST,
  PORT: envFields.port(3000),
  /** Comma-separated; every one is trusted (rotation: add the new one, switch Runflow, drop the old). */
  CALLBACK_SECRETS: list('CALLBACK_SECRETS').pipe(
    z.array(z.string().min(8, 'each callback secret needs at least 8 characters')).min(1, 'set at least one secret'),
  ),
  QUEUES: queueNames().default(['edits']),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  ...serverLimitsEnv(INGEST_LIMITS),
  /**
   * Divides every retention this process sets in Redis (callback inbox, clientRef, run index,
   * settle-once marker): benchmarks only, so that "24 h" passes in seconds. Leave unset (1).
   */
  RETENTION_DIVISOR: z.coerce.number().int().min(1).default(1),
  LOG_LEVEL: envFields.LOG_LEVEL,
});
export type IngestEnv = z.infer<typeof IngestEnv>;

export function parseEnv(source: Record<string, string | undefined>): IngestEnv {
  return parseConfig(IngestEnv, source, { app: 'callback-ingest', secrets: ['CALLBACK_SECRETS'] });
}
