import { createDashboardMetrics } from '@runflow-queue/metrics';
import { bootApp, loadWorkloadsFile } from '@runflow-queue/runtime';
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
    const app = buildApp({
      redis,
      prefix: env.REDIS_PREFIX,
      queues,
      auth: { user: env.DASHBOARD_USER, password: env.DASHBOARD_PASSWORD, token: env.DASHBOARD_TOKEN },
      readOnlyQueues: env.DASHBOARD_READ_ONLY_QUEUES,
      workloads,
      logger,
      metrics: createDashboardMetrics({ defaultMetrics: true }),
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
        budgets: Boolean(workloads),
      },
      'dashboard listening',
    );
  },
});
