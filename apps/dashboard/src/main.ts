import { createDashboardMetrics } from '@runflow-queue/metrics';
import { createProducer } from '@runflow-queue/producer';
import { serverLimitsOf, type WorkloadsConfig } from '@runflow-queue/shared';
import { createRedis } from '@runflow-queue/store';
import { pino } from 'pino';
import { buildApp } from './app.ts';
import { parseEnv } from './env.ts';
import { loadWorkloads } from './load-workloads.ts';

let env: ReturnType<typeof parseEnv>;
let workloads: WorkloadsConfig | undefined;
try {
  env = parseEnv(process.env);
  workloads = env.WORKLOADS_FILE ? loadWorkloads(env.WORKLOADS_FILE) : undefined;
} catch (error) {
  console.error((error as Error).message);
  process.exit(78); // EX_CONFIG
}
const queues = env.QUEUES ?? workloads?.queues.map((q) => q.name) ?? ['edits'];

const logger = pino({
  level: env.LOG_LEVEL,
  name: 'dashboard',
  redact: [
    'req.headers.authorization',
    'req.headers.cookie',
    'headers.authorization',
    'authorization',
    'password',
    'token',
  ],
});
// Fail fast while Redis is away: a page answers 503 in seconds instead of hanging.
const redis = createRedis(env.REDIS_URL, { maxRetriesPerRequest: 1, commandTimeout: 5_000 });
redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
// Add job goes through the producer: its validation, its job shape (step `queued`, no run).
const producer = createProducer({ redis, prefix: env.REDIS_PREFIX });
const operator =
  env.DASHBOARD_OPERATOR_PASSWORD !== undefined || env.DASHBOARD_OPERATOR_TOKEN !== undefined
    ? { user: env.DASHBOARD_OPERATOR_USER, password: env.DASHBOARD_OPERATOR_PASSWORD, token: env.DASHBOARD_OPERATOR_TOKEN }
    : undefined;
const app = buildApp({
  redis,
  prefix: env.REDIS_PREFIX,
  queues,
  auth: { user: env.DASHBOARD_USER, password: env.DASHBOARD_PASSWORD, token: env.DASHBOARD_TOKEN, operator },
  readOnlyQueues: env.DASHBOARD_READ_ONLY_QUEUES,
  producer,
  allowedOrigins: env.DASHBOARD_ALLOWED_ORIGINS,
  limits: serverLimitsOf(env),
  workloads,
  logger,
  metrics: createDashboardMetrics({ defaultMetrics: true }),
});
const address = await app.listen({ host: env.HOST, port: env.PORT });
logger.info(
  {
    address,
    queues,
    readOnly: env.DASHBOARD_READ_ONLY_QUEUES,
    auth: [env.DASHBOARD_PASSWORD && 'basic', env.DASHBOARD_TOKEN && 'bearer'].filter(Boolean),
    operator: operator ? [operator.password && 'basic', operator.token && 'bearer'].filter(Boolean) : 'none (read-only)',
    budgets: Boolean(workloads),
  },
  'dashboard listening',
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  // Reverse order of creation: HTTP server (drains requests, stops the collector, closes queues), Redis.
  await app.close();
  await producer.close();
  await redis.quit();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
