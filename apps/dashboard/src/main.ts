import { createDashboardMetrics } from '@runflow-queue/metrics';
import { createProducer } from '@runflow-queue/producer';
import { bootApp, loadWorkloadsFile } from '@runflow-queue/runtime';
import { serverLimitsOf } from '@runflow-queue/shared';
import { createRedis } from '@runflow-queue/store';
import { buildApp } from './app.ts';
import { parseEnv } from './env.ts';

/** The environment and, for budgets, the workers' workloads file: validated together at boot. */
function parseConfig(source: Record<string, string | undefined>) {
  const env = parseEnv(source);
  const workloads = env.WORKLOADS_FILE ? loadWorkloadsFile(env.WORKLOADS_FILE) : undefined;
  return { env, workloads, queues: env.QUEUES ?? workloads?.queues.map((q) => q.name) ?? ['edits'] };
}

await bootApp({
  name: 'dashboard',
  config: parseConfig,
  logLevel: ({ env }) => env.LOG_LEVEL,
  redact: [
    'req.headers.authorization',
    'req.headers.cookie',
    'headers.authorization',
    'authorization',
    'password',
    'token',
  ],
  async start({ env, workloads, queues }, { logger, own }) {
    // Fail fast while Redis is away: a page answers 503 in seconds instead of hanging.
    const redis = createRedis(env.REDIS_URL, { maxRetriesPerRequest: 1, commandTimeout: 5_000 });
    redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
    own('redis', () => redis.quit());
    // Add job goes through the producer: its validation, its job shape (step `queued`, no run).
    const producer = createProducer({ redis, prefix: env.REDIS_PREFIX });
    own('producer', () => producer.close());
    const operator =
      env.DASHBOARD_OPERATOR_PASSWORD !== undefined || env.DASHBOARD_OPERATOR_TOKEN !== undefined
        ? {
            user: env.DASHBOARD_OPERATOR_USER,
            password: env.DASHBOARD_OPERATOR_PASSWORD,
            token: env.DASHBOARD_OPERATOR_TOKEN,
          }
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
      accountKey: env.RATE_LIMIT_KEY ?? env.RUNFLOW_API_KEY,
    });
    // Drains requests, stops the spend collector, closes the queues.
    own('http server', () => app.close());
    const address = await app.listen({ host: env.HOST, port: env.PORT });
    logger.info(
      {
        address,
        queues,
        readOnly: env.DASHBOARD_READ_ONLY_QUEUES,
        auth: [env.DASHBOARD_PASSWORD && 'basic', env.DASHBOARD_TOKEN && 'bearer'].filter(Boolean),
        operator: operator
          ? [operator.password && 'basic', operator.token && 'bearer'].filter(Boolean)
          : 'none (read-only)',
        budgets: Boolean(workloads),
      },
      'dashboard listening',
    );
  },
});
