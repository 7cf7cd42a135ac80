import { createProducer } from '@runflow-queue/producer';
import { serverLimitsOf } from '@runflow-queue/shared';
import { createRedis } from '@runflow-queue/store';
import { pino } from 'pino';
import { buildApp } from './app.ts';
import { parseEnv } from './env.ts';

let env: ReturnType<typeof parseEnv>;
try {
  env = parseEnv(process.env);
} catch (error) {
  console.error((error as Error).message);
  process.exit(78); // EX_CONFIG
}

const logger = pino({
  level: env.LOG_LEVEL,
  name: 'api',
  // Tokens never reach the logs (fastify's request serializer omits headers; this guards any that do).
  redact: ['req.headers.authorization', 'headers.authorization', 'authorization', 'tokens'],
});
// Fail fast while Redis is away: a caller gets a 5xx in seconds instead of a hanging request.
const redis = createRedis(env.REDIS_URL, { maxRetriesPerRequest: 1, commandTimeout: 5_000 });
redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
const producer = createProducer({
  redis,
  prefix: env.REDIS_PREFIX,
  notifyUrlPolicy: {
    allowHttpLoopback: env.NOTIFY_ALLOW_HTTP_LOOPBACK,
    allowPrivateNetworks: env.NOTIFY_ALLOW_PRIVATE_NETWORKS,
  },
});
const app = buildApp({
  producer,
  redis,
  queues: env.QUEUES,
  tokens: [...env.API_TOKENS, ...env.API_ADMIN_TOKENS],
  bodyLimitBytes: env.BODY_LIMIT_BYTES,
  limits: serverLimitsOf(env),
  logger,
});
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

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  // Reverse order of creation: HTTP server (drains in-flight requests), producer, Redis.
  await app.close();
  await producer.close();
  await redis.quit();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
