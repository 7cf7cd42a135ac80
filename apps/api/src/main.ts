import { createProducer } from '@runflow-queue/producer';
import { bootApp, loadWorkloadsFile } from '@runflow-queue/runtime';
import { serverLimitsOf } from '@runflow-queue/shared';
import { createRedis } from '@runflow-queue/store';
import { buildApp } from './app.ts';
import { parseEnv } from './env.ts';

/** The environment and the workloads file it points at (for quotes), validated together at boot. */
function parseConfig(source: Record<string, string | undefined>) {
  const env = parseEnv(source);
  return { env, workloads: env.WORKLOADS_FILE ? loadWorkloadsFile(env.WORKLOADS_FILE) : undefined };
}

await bootApp({
  name: 'api',
  config: parseConfig,
  logLevel: ({ env }) => env.LOG_LEVEL,
  // Tokens never reach the logs (fastify's request serializer omits headers; this guards any that do).
  redact: ['req.headers.authorization', 'headers.authorization', 'authorization', 'tokens'],
  async start({ env, workloads }, { logger, own }) {
    // Fail fast while Redis is away: a caller gets a 5xx in seconds instead of a hanging request.
    const redis = createRedis(env.REDIS_URL, { maxRetriesPerRequest: 1, commandTimeout: 5_000 });
    redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
    own('redis', () => redis.quit());
    const producer = createProducer({
      redis,
      prefix: env.REDIS_PREFIX,
      notifyUrlPolicy: {
        allowHttpLoopback: env.NOTIFY_ALLOW_HTTP_LOOPBACK,
        allowPrivateNetworks: env.NOTIFY_ALLOW_PRIVATE_NETWORKS,
      },
      workloads,
    });
    own('producer', () => producer.close());
    const app = buildApp({
      producer,
      redis,
      queues: env.QUEUES,
      tokens: [...env.API_TOKENS, ...env.API_ADMIN_TOKENS],
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
      limits: serverLimitsOf(env),
      logger,
      holds: { prefix: env.REDIS_PREFIX, accountKey: env.RATE_LIMIT_KEY ?? env.RUNFLOW_API_KEY },
    });
    // Drains in-flight requests.
    own('http server', () => app.close());
    const address = await app.listen({ host: env.HOST, port: env.PORT });
    logger.info(
      {
        address,
        queues: env.QUEUES,
        tokenCount: env.API_TOKENS.length + env.API_ADMIN_TOKENS.length,
        callers: [...new Set(env.API_TOKENS.map((c) => c.name))],
        admins: [...new Set(env.API_ADMIN_TOKENS.map((c) => c.name))],
      },
      'api listening',
    );
  },
});
