import { QUEUE_NAME_PATTERN } from '@runflow-queue/shared';
import { z } from 'zod';

// The environment variables several apps share, each defined once: same defaults, same messages.

/** A comma-separated list: trimmed, empty items dropped. */
export const list = (name: string) =>
  z.string({ error: `set ${name}` }).transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

export const queueNames = (name = 'QUEUES') =>
  list(name).pipe(
    z.array(z.string().regex(QUEUE_NAME_PATTERN, 'queue names are lowercase letters, digits, - and _')).min(1),
  );

export const ms = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** "true"/"1" or "false"/"0"; unset or empty is false. */
export const flag = z
  .enum(['true', 'false', '1', '0', ''])
  .default('false')
  .transform((value) => value === 'true' || value === '1');

/**
 * `redis://` / `rediss://` (one node), or `redis+cluster://host:port,host:port` / `rediss+cluster://…`
 * (a Redis Cluster, what createRedis turns into a Cluster client): `new URL` rejects the node list.
 */
const REDIS_URL_PATTERN = /^(rediss?:\/\/\S+|rediss?\+cluster:\/\/[^\s,:/]+(:\d+)?(,[^\s,:/]+(:\d+)?)*)$/;

export const envFields = {
  REDIS_URL: z
    .string()
    .regex(
      REDIS_URL_PATTERN,
      'use redis://host:port (or rediss://), or redis+cluster://host:port,host:port for a Redis Cluster',
    )
    .default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().min(1).default('rfq'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().default('0.0.0.0'),
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
};
