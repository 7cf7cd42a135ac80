import { parseConfig } from '@runflow-queue/shared';
import { z } from 'zod';

const list = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

const queueName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'queue names are lowercase letters, digits, - and _');

export const DashboardEnv = z
  .object({
    REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
    REDIS_PREFIX: z.string().min(1).default('rfq'),
    /** Queues to show; unset → the workloads file's queues, else `edits`. */
    QUEUES: list.pipe(z.array(queueName).min(1)).optional(),
    HOST: z.string().default('0.0.0.0'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3100),
    /** Basic auth: user name with DASHBOARD_PASSWORD. */
    DASHBOARD_USER: z.string().min(1).default('admin'),
    DASHBOARD_PASSWORD: z.string().min(8, 'use at least 8 characters').optional(),
    /** Bearer token (`Authorization: Bearer …`), for scripts; alongside or instead of the password. */
    DASHBOARD_TOKEN: z.string().min(16, 'use at least 16 characters (e.g. `openssl rand -hex 24`)').optional(),
    /** Queues shown read-only (no retry, remove, add or pause): comma-separated names, or `*` for all. */
    DASHBOARD_READ_ONLY_QUEUES: list.pipe(z.array(z.union([z.literal('*'), queueName]))).default([]),
    /** The workers' workloads file (JSON or YAML): budgets on the spend page and the models each queue's Add Job form offers. */
    WORKLOADS_FILE: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .refine((env) => env.DASHBOARD_PASSWORD !== undefined || env.DASHBOARD_TOKEN !== undefined, {
    path: ['DASHBOARD_PASSWORD'],
    message:
      'set DASHBOARD_PASSWORD (basic auth as DASHBOARD_USER) or DASHBOARD_TOKEN (bearer): the dashboard never runs open',
  });
export type DashboardEnv = z.infer<typeof DashboardEnv>;

/** Parses the dashboard's environment once, at boot; the error names every bad variable (secrets hidden). */
export function parseEnv(source: Record<string, string | undefined>): DashboardEnv {
  return parseConfig(DashboardEnv, source, { app: 'dashboard', secrets: ['DASHBOARD_PASSWORD', 'DASHBOARD_TOKEN'] });
}
