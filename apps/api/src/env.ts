import { parseConfig } from '@runflow-queue/shared';
import { z } from 'zod';

const list = (name: string) =>
  z.string({ error: `set ${name}` }).transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

const flag = z
  .enum(['true', 'false', '1', '0', ''])
  .default('false')
  .transform((value) => value === 'true' || value === '1');

export const ApiEnv = z.object({
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().min(1).default('rfq'),
  /** Queues this API may enqueue to; the first is the default when a request names none. */
  QUEUES: list('QUEUES')
    .default(['edits'])
    .pipe(
      z
        .array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'queue names are lowercase letters, digits, - and _'))
        .min(1),
    ),
  /** Comma-separated bearer tokens, one per calling service (rotation: several at once). */
  API_TOKENS: list('API_TOKENS').pipe(
    z
      .array(z.string().min(16, 'each API token needs at least 16 characters (e.g. `openssl rand -hex 24`)'))
      .min(1, 'set at least one token'),
  ),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3200),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(5 * 1024 * 1024),
  /** Accept notifyUrl targets on loopback (http too): development only. Workers have the same switch. */
  NOTIFY_ALLOW_HTTP_LOOPBACK: flag,
  /** Accept notifyUrl targets on private networks (10/8, 172.16/12, 192.168/16, …). */
  NOTIFY_ALLOW_PRIVATE_NETWORKS: flag,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type ApiEnv = z.infer<typeof ApiEnv>;

/** Parses the API's environment once, at boot; the error names every bad variable (tokens hidden). */
export function parseEnv(source: Record<string, string | undefined>): ApiEnv {
  return parseConfig(ApiEnv, source, { app: 'api', secrets: ['API_TOKENS'] });
}
