import { envFields, list, queueNames } from '@runflow-queue/runtime';
import { parseConfig, QUEUE_NAME_PATTERN, type ServerLimits, serverLimitsEnv } from '@runflow-queue/shared';
import { z } from 'zod';

const queueName = z.string().regex(QUEUE_NAME_PATTERN, 'queue names are lowercase letters, digits, - and _');

/** Slow clients: pages and Bull Board's API are small; keep-alive outlasts a load balancer's 60 s. */
export const DASHBOARD_LIMITS: ServerLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 72_000,
  idleTimeoutMs: 75_000,
  maxConnections: 1_000,
};

export const DashboardEnv = z
  .object({
    REDIS_URL: envFields.REDIS_URL,
    REDIS_PREFIX: envFields.REDIS_PREFIX,
    /** Queues to show; unset → the workloads file's queues, else `edits`. */
    QUEUES: queueNames().optional(),
    HOST: envFields.HOST,
    PORT: envFields.port(3100),
    /** The viewer (read-only on every queue). Basic auth: user name with DASHBOARD_PASSWORD. */
    DASHBOARD_USER: z.string().min(1).default('admin'),
    DASHBOARD_PASSWORD: z.string().min(8, 'use at least 8 characters').optional(),
    /** Bearer token (`Authorization: Bearer …`), for scripts; alongside or instead of the password. */
    DASHBOARD_TOKEN: z.string().min(16, 'use at least 16 characters (e.g. `openssl rand -hex 24`)').optional(),
    /**
     * The operator: the only credential that may retry, promote, clean, add or remove. Unset: the board
     * is read-only for everyone. Must differ from the viewer's.
     */
    DASHBOARD_OPERATOR_USER: z.string().min(1).default('operator'),
    DASHBOARD_OPERATOR_PASSWORD: z.string().min(12, 'use at least 12 characters').optional(),
    DASHBOARD_OPERATOR_TOKEN: z.string().min(16, 'use at least 16 characters (e.g. `openssl rand -hex 24`)').optional(),
    /** Origins a browser may send write actions from (the dashboard's public URL behind a proxy); default: its Host. */
    DASHBOARD_ALLOWED_ORIGINS: list('DASHBOARD_ALLOWED_ORIGINS').pipe(z.array(z.string().url())).default([]),
    /** Queues read-only even for the operator: comma-separated names, or `*` for all. */
    DASHBOARD_READ_ONLY_QUEUES: list('DASHBOARD_READ_ONLY_QUEUES')
      .pipe(z.array(z.union([z.literal('*'), queueName])))
      .default([]),
    /** The workers' workloads file (JSON or YAML): budgets on the spend page and the models each queue's Add Job form offers. */
    WORKLOADS_FILE: z.string().min(1).optional(),
    /** The workers' RATE_LIMIT_KEY, else RUNFLOW_API_KEY (only its hash is used): the holds banner, /holds, pause / resume. */
    RATE_LIMIT_KEY: z.string().min(1).optional(),
    RUNFLOW_API_KEY: z.string().min(1).optional(),
    ...serverLimitsEnv(DASHBOARD_LIMITS),
    LOG_LEVEL: envFields.LOG_LEVEL,
  })
  .refine((env) => env.DASHBOARD_PASSWORD !== undefined || env.DASHBOARD_TOKEN !== undefined, {
    path: ['DASHBOARD_PASSWORD'],
    message:
      'set DASHBOARD_PASSWORD (basic auth as DASHBOARD_USER) or DASHBOARD_TOKEN (bearer): the dashboard never runs open',
  })
  .refine(
    (env) =>
      env.DASHBOARD_OPERATOR_PASSWORD === undefined ||
      (env.DASHBOARD_OPERATOR_PASSWORD !== env.DASHBOARD_PASSWORD &&
        env.DASHBOARD_OPERATOR_USER !== env.DASHBOARD_USER),
    {
      path: ['DASHBOARD_OPERATOR_PASSWORD'],
      message: "the operator's user and password must differ from the viewer's (DASHBOARD_USER, DASHBOARD_PASSWORD)",
    },
  )
  .refine((env) => env.DASHBOARD_OPERATOR_TOKEN === undefined || env.DASHBOARD_OPERATOR_TOKEN !== env.DASHBOARD_TOKEN, {
    path: ['DASHBOARD_OPERATOR_TOKEN'],
    message: "the operator's token must differ from the viewer's (DASHBOARD_TOKEN)",
  });
export type DashboardEnv = z.infer<typeof DashboardEnv>;

/** Parses the dashboard's environment once, at boot; the error names every bad variable (secrets hidden). */
export function parseEnv(source: Record<string, string | undefined>): DashboardEnv {
  return parseConfig(DashboardEnv, source, {
    app: 'dashboard',
    secrets: [
      'DASHBOARD_PASSWORD',
      'DASHBOARD_TOKEN',
      'DASHBOARD_OPERATOR_PASSWORD',
      'DASHBOARD_OPERATOR_TOKEN',
      'RUNFLOW_API_KEY',
      'RATE_LIMIT_KEY',
    ],
  });
}
