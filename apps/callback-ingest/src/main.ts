import { createIngestMetrics } from '@runflow-queue/metrics';
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

// Buffered, asynchronous log writes (flushed every second and on exit): synchronous writes per line
// are a large share of a busy process's CPU.
const logDestination = pino.destination({ sync: false, minLength: 4096 });
setInterval(() => logDestination.flush(), 1_000).unref();
const logger = pino(
  {
    level: env.LOG_LEVEL,
    name: 'callback-ingest',
    redact: ['req.headers.authorization', 'req.headers["runflow-signature"]', 'secrets'],
  },
  logDestination,
);
// Fail fast when Redis is away, so a callback gets a 503 (and Runflow retries) instead of hanging.
const redis = createRedis(env.REDIS_URL, { maxRetriesPerRequest: 1, commandTimeout: 2_000 });
redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
const app = buildApp({
  redis,
  prefix: env.REDIS_PREFIX,
  queues: env.QUEUES,
  secrets: env.CALLBACK_SECRETS,
  bodyLimitBytes: env.BODY_LIMIT_BYTES,
  limits: serverLimitsOf(env),
  logger,
  metrics: createIngestMetrics({ defaultMetrics: true }),
});
const address = await app.listen({ host: env.HOST, port: env.PORT });
logger.info({ address, queues: env.QUEUES, secrets: env.CALLBACK_SECRETS.length }, 'callback-ingest listening');
logDestination.flush();

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  await app.close(); // stops accepting, drains in-flight callbacks, closes queues
  await redis.quit();
  logDestination.flushSync();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
