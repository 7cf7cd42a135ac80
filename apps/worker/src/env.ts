import { envFields, flag, ms, queueNames } from '@runflow-queue/runtime';
import { parseConfig } from '@runflow-queue/shared';
import { z } from 'zod';

export const WorkerEnv = z.object({
  REDIS_URL: envFields.REDIS_URL,
  REDIS_PREFIX: envFields.REDIS_PREFIX,
  RUNFLOW_BASE_URL: z.string().url().default('https://api.runflow.io'),
  RUNFLOW_API_KEY: z.string().min(1, 'set RUNFLOW_API_KEY to your Runflow API key (rf_live_...)'),
  /** Public URL of callback-ingest's callback route; unset → the workers poll only. */
  CALLBACK_URL: z.string().url().optional(),
  /** Workloads file (JSON or YAML): queues, models, concurrency, shares, deadlines, budgets, rate limit. */
  WORKLOADS_FILE: z.string().min(1).optional(),
  /** Queues to serve: a subset of the workloads file, or (without one) the queues themselves. */
  QUEUES: queueNames().optional(),
  /** Without a workloads file: the account's request rate shared by the fleet, and its burst. */
  RUNFLOW_RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(20),
  RUNFLOW_RATE_BURST: z.coerce.number().int().positive().default(20),
  /**
   * Names the rate governor (default: a hash of RUNFLOW_API_KEY). Set it to your Runflow organisation
   * so that rotating the API key does not split the fleet into two governors with a limit each.
   */
  RATE_LIMIT_KEY: z.string().min(1).optional(),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
  FIRST_POLL_DELAY_MS: z.coerce.number().int().positive().optional(),
  POLL_INTERVAL_MS: ms(5_000),
  MAX_POLL_INTERVAL_MS: ms(60_000),
  RUN_DEADLINE_MS: ms(15 * 60_000),
  AMBIGUOUS_GRACE_MS: ms(60_000),
  RUNFLOW_TIMEOUT_MS: ms(30_000),
  LOCK_DURATION_MS: ms(30_000),
  /** The account's breaker opens after this many 5xx / network failures in a row fleet-wide ... */
  BREAKER_FAILURES: z.coerce.number().int().min(1).default(10),
  /** ... within this window; then one probe (GET /v1/health) after BREAKER_PROBE_BASE_MS, doubling ... */
  BREAKER_WINDOW_MS: ms(10_000),
  BREAKER_PROBE_BASE_MS: ms(5_000),
  /** ... up to this. */
  BREAKER_PROBE_MAX_MS: ms(30_000),
  /** While a 402 holds submits, GET /v1/billing/balance this often. */
  CREDIT_PROBE_INTERVAL_MS: ms(10_000),
  /** A job that meets a hold (breaker, credit, pause) parks about this long (×0.5–1) before it looks again. */
  HOLD_RECHECK_MS: ms(5_000),
  /** How old the cached holds may be: a pause is honoured within this (at most 1 s). */
  HOLDS_REFRESH_MS: z.coerce.number().int().min(50).max(1_000).default(500),
  /** Longer than RUNFLOW_TIMEOUT_MS, so a submit in flight at SIGTERM can finish and be recorded. */
  SHUTDOWN_GRACE_MS: ms(40_000),
  /** Signs the edit.completed / edit.failed webhooks (comma-separated during a rotation); unset → queued, not sent. */
  NOTIFY_SIGNING_SECRET: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((secret) => secret.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().min(16, 'each signing secret needs 16+ characters (whsec_<base64> or plain)')).min(1))
    .optional(),
  /** Deliver webhooks to loopback targets (http too): development and tests only. */
  NOTIFY_ALLOW_HTTP_LOOPBACK: flag,
  /** Deliver webhooks to private networks (10/8, 172.16/12, 192.168/16, 169.254/16, fc00::/7, …). */
  NOTIFY_ALLOW_PRIVATE_NETWORKS: flag,
  /** Run the fleet's spend reconciler in this process (one worker holds its lease at a time). */
  SPEND_RECONCILER: z.enum(['on', 'off']).default('on'),
  /** How often the reconciler confirms, heals and renews its lease. */
  SPEND_RECONCILE_INTERVAL_MS: ms(10_000),
  /** The reconciler's weight against the queues' shares (1 each by default): low, so submits go first. */
  SPEND_RECONCILE_SHARE: z.coerce.number().positive().max(1).default(0.05),
  /** Runs younger than this are left to their jobs before the reconciler books them as lacking. */
  SPEND_HEAL_LAG_MS: ms(30 * 60_000),
  /** How often the reconciler reads the Runflow balance (0: never). */
  SPEND_BALANCE_SAMPLE_MS: z.coerce.number().int().min(0).default(60_000),
  /** Port of the worker's only HTTP listener: GET /metrics (Prometheus) and GET /healthz (liveness). 0 = any free port. */
  METRICS_PORT: envFields.port(9464),
  /**
   * Divides every retention this process sets in Redis (callback inbox, clientRef, run index,
   * settle-once marker): benchmarks only, so that "24 h" passes in seconds. Leave unset (1).
   */
  RETENTION_DIVISOR: z.coerce.number().int().min(1).default(1),
  LOG_LEVEL: envFields.LOG_LEVEL,
});
export type WorkerEnv = z.infer<typeof WorkerEnv>;

/** Shown as "(hidden)" in a config error: a rejected value is often a mistyped real secret. */

/** Parses the worker's environment once, at boot; the error names every bad variable. */
export function parseEnv(source: Record<string, string | undefined>): WorkerEnv {
  return parseConfig(WorkerEnv, source, { app: 'worker', secrets: ['RUNFLOW_API_KEY', 'NOTIFY_SIGNING_SECRET'] });
}
