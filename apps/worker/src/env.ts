import { z } from 'zod';

const queueList = z
  .string()
  .default('edits')
  .transform((value) =>
    value
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'queue names are lowercase letters, digits, - and _'))
      .min(1),
  );

const ms = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const WorkerEnv = z.object({
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().min(1).default('rfq'),
  RUNFLOW_BASE_URL: z.string().url().default('https://api.runflow.io'),
  RUNFLOW_API_KEY: z.string().min(1, 'set RUNFLOW_API_KEY to your Runflow API key (rf_live_...)'),
  /** Public URL of callback-ingest's callback route; unset → the workers poll only. */
  CALLBACK_URL: z.string().url().optional(),
  QUEUES: queueList,
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
  FIRST_POLL_DELAY_MS: z.coerce.number().int().positive().optional(),
  POLL_INTERVAL_MS: ms(5_000),
  MAX_POLL_INTERVAL_MS: ms(60_000),
  RUN_DEADLINE_MS: ms(15 * 60_000),
  AMBIGUOUS_GRACE_MS: ms(60_000),
  RUNFLOW_TIMEOUT_MS: ms(30_000),
  LOCK_DURATION_MS: ms(30_000),
  SHUTDOWN_GRACE_MS: ms(25_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type WorkerEnv = z.infer<typeof WorkerEnv>;

/** Parses the worker's environment once, at boot; the error names every bad variable. */
export function parseEnv(source: Record<string, string | undefined>): WorkerEnv {
  const result = WorkerEnv.safeParse(source);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = String(issue.path[0]);
    return `  ${name}=${JSON.stringify(source[name] ?? null)}: ${issue.message}`;
  });
  throw new Error(`invalid worker configuration:\n${lines.join('\n')}`);
}
