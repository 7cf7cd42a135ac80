import { parseConfig, type ServerLimits, serverLimitsEnv } from '@runflow-queue/shared';
import { z } from 'zod';

const list = (name: string) =>
  z.string({ error: `set ${name}` }).transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

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
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().min(1).default('rfq'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Comma-separated; every one is trusted (rotation: add the new one, switch Runflow, drop the old). */
  CALLBACK_SECRETS: list('CALLBACK_SECRETS').pipe(
    z.array(z.string().min(8, 'each callback secret needs at least 8 characters')).min(1, 'set at least one secret'),
  ),
  QUEUES: list('QUEUES')
    .default(['edits'])
    .pipe(z.array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/)).min(1)),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  ...serverLimitsEnv(INGEST_LIMITS),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type IngestEnv = z.infer<typeof IngestEnv>;

export function parseEnv(source: Record<string, string | undefined>): IngestEnv {
  return parseConfig(IngestEnv, source, { app: 'callback-ingest', secrets: ['CALLBACK_SECRETS'] });
}
