import { createRunflowClient } from '@runflow-queue/runflow-client';
import { createRedis } from '@runflow-queue/store';
import { pino } from 'pino';
import { startEditWorkers } from './edit-workers.ts';
import { parseEnv } from './env.ts';
import { DEFAULT_LIFECYCLE } from './lifecycle-config.ts';
import { redactPaths } from './redact.ts';

let env: ReturnType<typeof parseEnv>;
try {
  env = parseEnv(process.env);
} catch (error) {
  console.error((error as Error).message);
  process.exit(78); // EX_CONFIG
}

const logger = pino({ level: env.LOG_LEVEL, name: 'worker', redact: redactPaths });
const connection = createRedis(env.REDIS_URL, { maxRetriesPerRequest: null });
connection.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
const client = createRunflowClient({
  baseUrl: env.RUNFLOW_BASE_URL,
  apiKey: env.RUNFLOW_API_KEY,
  headersTimeoutMs: env.RUNFLOW_TIMEOUT_MS,
  bodyTimeoutMs: env.RUNFLOW_TIMEOUT_MS,
  logger,
});
const workers = await startEditWorkers({
  connection,
  prefix: env.REDIS_PREFIX,
  queues: env.QUEUES,
  concurrency: env.WORKER_CONCURRENCY,
  client,
  logger,
  lockDurationMs: env.LOCK_DURATION_MS,
  lifecycle: {
    ...DEFAULT_LIFECYCLE,
    callbackUrl: env.CALLBACK_URL,
    firstPollDelayMs: env.FIRST_POLL_DELAY_MS ?? (env.CALLBACK_URL ? 30_000 : 5_000),
    pollIntervalMs: env.POLL_INTERVAL_MS,
    maxPollIntervalMs: env.MAX_POLL_INTERVAL_MS,
    runDeadlineMs: env.RUN_DEADLINE_MS,
    ambiguousGraceMs: env.AMBIGUOUS_GRACE_MS,
  },
});
logger.info(
  { queues: env.QUEUES, concurrency: env.WORKER_CONCURRENCY, callbacks: Boolean(env.CALLBACK_URL), pid: process.pid },
  'worker started',
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: no new jobs; active jobs finish or park');
  const timer = setTimeout(() => {
    logger.error({ graceMs: env.SHUTDOWN_GRACE_MS }, 'shutdown grace period exceeded; exiting');
    process.exit(1);
  }, env.SHUTDOWN_GRACE_MS);
  timer.unref();
  // Reverse order of creation: workers (stop pulling, finish active), HTTP client, Redis.
  await workers.close();
  await client.close();
  await connection.quit();
  logger.info('worker stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
