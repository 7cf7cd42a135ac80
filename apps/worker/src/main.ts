import { createWorkerMetrics, type MetricsServer, startMetricsServer } from '@runflow-queue/metrics';
import { EditNotifier, startNotificationWorker } from '@runflow-queue/notifier';
import { createRunflowClient } from '@runflow-queue/runflow-client';
import { createRedis } from '@runflow-queue/store';
import { pino } from 'pino';
import { startEditWorkers } from './edit-workers.ts';
import { parseEnv } from './env.ts';
import { DEFAULT_LIFECYCLE } from './lifecycle-config.ts';
import { redactPaths } from './redact.ts';
import { observeRunflowRequests, startWorkerCollector } from './worker-metrics.ts';
import { loadWorkloadsFile, workloadsFromQueues } from './workloads.ts';

let env: ReturnType<typeof parseEnv>;
let workloads: ReturnType<typeof loadWorkloadsFile>;
try {
  env = parseEnv(process.env);
  workloads = env.WORKLOADS_FILE
    ? loadWorkloadsFile(env.WORKLOADS_FILE)
    : workloadsFromQueues(env.QUEUES ?? ['edits'], {
        concurrency: env.WORKER_CONCURRENCY,
        deadlineMs: env.RUN_DEADLINE_MS,
        requestsPerSecond: env.RUNFLOW_RATE_LIMIT_PER_SECOND,
        burst: env.RUNFLOW_RATE_BURST,
      });
} catch (error) {
  console.error((error as Error).message);
  process.exit(78); // EX_CONFIG
}

// Buffered, asynchronous writes: one synchronous write per log line was ~20 % of a busy worker's CPU.
const logDestination = pino.destination({ sync: false, minLength: 4096 });
const logger = pino({ level: env.LOG_LEVEL, name: 'worker', redact: redactPaths }, logDestination);
// ... flushed at least every second, so a quiet worker's lines are not held back.
setInterval(() => logDestination.flush(), 1_000).unref();
const metrics = createWorkerMetrics({ defaultMetrics: true });
// Up first and down last: liveness (/healthz) answers from memory, whatever Redis does. A port in use
// (several workers on one host, e.g. tests) costs the metrics, not the worker: the probes will say so.
const metricsServer: MetricsServer | undefined = await startMetricsServer({
  port: env.METRICS_PORT,
  registry: metrics.registry,
  logger,
}).catch((error: unknown) => {
  logger.error(
    { err: error, port: env.METRICS_PORT },
    'metrics server could not listen; /metrics and /healthz are off',
  );
  return undefined;
});
const connection = createRedis(env.REDIS_URL, { maxRetriesPerRequest: null });
connection.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
const client = createRunflowClient({
  baseUrl: env.RUNFLOW_BASE_URL,
  apiKey: env.RUNFLOW_API_KEY,
  headersTimeoutMs: env.RUNFLOW_TIMEOUT_MS,
  bodyTimeoutMs: env.RUNFLOW_TIMEOUT_MS,
  logger,
  onRequest: observeRunflowRequests(metrics),
});
// Webhooks (issue 8): a job with a notifyUrl queues its delivery when it ends; this process delivers them.
const notifier = new EditNotifier({ connection, prefix: env.REDIS_PREFIX, logger });
const policy = {
  allowHttpLoopback: env.NOTIFY_ALLOW_HTTP_LOOPBACK,
  allowPrivateNetworks: env.NOTIFY_ALLOW_PRIVATE_NETWORKS,
};
const secrets = env.NOTIFY_SIGNING_SECRET;
const deliveries =
  secrets && startNotificationWorker({ connection, prefix: env.REDIS_PREFIX, secrets, policy, logger });
if (!deliveries) logger.info('NOTIFY_SIGNING_SECRET unset: webhooks are queued, and sent by workers that have it');
const workers = await startEditWorkers({
  connection,
  prefix: env.REDIS_PREFIX,
  workloads,
  queues: env.QUEUES,
  governorKey: env.RATE_LIMIT_KEY ?? env.RUNFLOW_API_KEY,
  client,
  logger,
  notifier,
  metrics,
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
const collector = startWorkerCollector({
  connection,
  prefix: env.REDIS_PREFIX,
  workloads,
  queues: workers.workers.map((w) => w.name),
  governorKey: env.RATE_LIMIT_KEY ?? env.RUNFLOW_API_KEY,
  metrics,
  logger,
});
logger.info(
  {
    queues: workers.workers.map((w) => w.name),
    metricsPort: metricsServer?.port,
    rateLimit: workloads.rateLimit,
    callbacks: Boolean(env.CALLBACK_URL),
  },
  'worker started',
);
logDestination.flush();

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: no new jobs; active jobs finish or park');
  const timer = setTimeout(() => {
    logger.error({ graceMs: env.SHUTDOWN_GRACE_MS }, 'shutdown grace period exceeded; exiting');
    logDestination.flushSync();
    process.exit(1);
  }, env.SHUTDOWN_GRACE_MS);
  timer.unref();
  // Reverse order of creation: metrics collector, workers (stop pulling, finish active), HTTP client,
  // Redis, and the metrics listener last (liveness keeps answering while the worker drains).
  await collector.stop();
  await workers.close();
  await deliveries?.close();
  await notifier.close();
  await client.close();
  await connection.quit();
  await metricsServer?.close();
  logger.info('worker stopped');
  logDestination.flushSync();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
