import { parseConfig } from '@runflow-queue/shared';
import { z } from 'zod';

const list = (name: string) =>
  z.string({ error: `set ${name}` }).transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

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
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type IngestEnv = z.infer<typeof IngestEnv>;

export function parseEnv(source: Record<string, string | undefined>): IngestEnv {
  return parseConfig(IngestEnv, source, { app: 'callback-ingest', secrets: ['CALLBACK_SECRETS'] });
}
