import { createIngestMetrics } from '@runflow-queue/metrics';
import { bootApp } from '@runflow-queue/runtime';
import { serverLimitsOf } from '@runflow-queue/shared';
import { createRedis } from '@runflow-queue/store';
import { buildApp } from './app.ts';
import { parseEnv } from './env.ts';

await bootApp({
  name: 'callback-ingest',
  config: parseEnv,
  logLevel: (env) => env.LOG_LEVEL,
  redact: ['req.headers.authorization', 'req.headers["runflow-signature"]', 'secrets'],
  // The callback route's span is started by hand, in the trace of the job it is for.
  tracing: { fastify: false },
  async start(env, { logger, own }) {
    // Fail fast when Redis is away, so a callback gets a 503 (and Runflow retries) instead of hanging.
    const redis = createRedis(env.REDIS_URL, { maxRetriesPerRequest: 1, commandTimeout: 2_000 });
    redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
    own('redis', () => redis.quit());
    const app = buildApp({
      redis,
      prefix: env.REDIS_PREFIX,
      queues: env.QUEUES,
      secrets: env.CALLBACK_SECRETS,
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
      limits: serverLimitsOf(env),
      logger,
      metrics: createIngestMetrics({ defaultMetrics: true }),
      retentionDivisor: env.RETENTION_DIVISOR,
    });
    // Stops accepting, drains in-flight callbacks, closes its queues.
    own('http server', () => app.close());
    const address = await app.listen({ host: env.HOST, port: env.PORT });
    logger.info({ address, queues: env.QUEUES, secrets: env.CALLBACK_SECRETS.length }, 'callback-ingest listening');
  },
});
