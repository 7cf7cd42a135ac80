import { createWorkerMetrics, startMetricsServer } from '@runflow-queue/metrics';
import { EditNotifier, startNotificationWorker } from '@runflow-queue/notifier';
import { createRunflowClient } from '@runflow-queue/runflow-client';
import { bootApp, loadWorkloadsFile, workloadsFromQueues } from '@runflow-queue/runtime';
import { createRedis } from '@runflow-queue/store';
import { startEditWorkers } from './edit-workers.ts';
import { parseEnv } from './env.ts';
import { DEFAULT_LIFECYCLE } from './lifecycle-config.ts';
import { redactPaths } from './redact.ts';
import { observeRunflowRequests, startWorkerCollector } from './worker-metrics.ts';

/** The environment and the workloads it points at, validated together at boot. */
function parseConfig(source: Record<string, string | undefined>) {
  const env = parseEnv(source);
  const workloads = env.WORKLOADS_FILE
    ? loadWorkloadsFile(env.WORKLOADS_FILE)
    : workloadsFromQueues(env.QUEUES ?? ['edits'], {
        concurrency: env.WORKER_CONCURRENCY,
        deadlineMs: env.RUN_DEADLINE_MS,
        requestsPerSecond: env.RUNFLOW_RATE_LIMIT_PER_SECOND,
        burst: env.RUNFLOW_RATE_BURST,
      });
  return { env, workloads };
}

await bootApp({
  name: 'worker',
  config: parseConfig,
  logLevel: ({ env }) => env.LOG_LEVEL,
  redact: redactPaths,
  graceMs: ({ env }) => env.SHUTDOWN_GRACE_MS,
  stoppingMessage: 'shutting down: no new jobs; active jobs finish or park',
  async start({ env, workloads }, { logger, own }) {
    const metrics = createWorkerMetrics({ defaultMetrics: true });
    // Up first and down last: liveness (/healthz) answers from memory, whatever Redis does. A port in
    // use (several workers on one host, e.g. tests) costs the metrics, not the worker: the probes say so.
    const metricsServer = await startMetricsServer({
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
    if (metricsServer) own('metrics server', () => metricsServer.close());
    const connection = createRedis(env.REDIS_URL, { maxRetriesPerRequest: null });
    connection.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
    own('redis', () => connection.quit());
    const client = createRunflowClient({
      baseUrl: env.RUNFLOW_BASE_URL,
      apiKey: env.RUNFLOW_API_KEY,
      headersTimeoutMs: env.RUNFLOW_TIMEOUT_MS,
      bodyTimeoutMs: env.RUNFLOW_TIMEOUT_MS,
      logger,
      onRequest: observeRunflowRequests(metrics),
    });
    own('runflow client', () => client.close());
    // Webhooks: a job with a notifyUrl queues its delivery when it ends; this process delivers them.
    const notifier = new EditNotifier({ connection, prefix: env.REDIS_PREFIX, logger });
    own('notifier', () => notifier.close());
    const policy = {
      allowHttpLoopback: env.NOTIFY_ALLOW_HTTP_LOOPBACK,
      allowPrivateNetworks: env.NOTIFY_ALLOW_PRIVATE_NETWORKS,
    };
    const secrets = env.NOTIFY_SIGNING_SECRET;
    const deliveries =
      secrets && startNotificationWorker({ connection, prefix: env.REDIS_PREFIX, secrets, policy, logger });
    if (deliveries) own('webhook deliveries', () => deliveries.close());
    else logger.info('NOTIFY_SIGNING_SECRET unset: webhooks are queued, and sent by workers that have it');
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
      holds: {
        breaker: {
          failures: env.BREAKER_FAILURES,
          windowMs: env.BREAKER_WINDOW_MS,
          probeBaseMs: env.BREAKER_PROBE_BASE_MS,
          probeMaxMs: env.BREAKER_PROBE_MAX_MS,
        },
        creditProbeIntervalMs: env.CREDIT_PROBE_INTERVAL_MS,
        refreshMs: env.HOLDS_REFRESH_MS,
        recheckMs: env.HOLD_RECHECK_MS,
      },
      reconciler:
        env.SPEND_RECONCILER === 'on'
          ? {
              intervalMs: env.SPEND_RECONCILE_INTERVAL_MS,
              share: env.SPEND_RECONCILE_SHARE,
              healLagMs: env.SPEND_HEAL_LAG_MS,
              healLookbackMs: 24 * 3600_000,
              balanceEveryMs: env.SPEND_BALANCE_SAMPLE_MS,
            }
          : undefined,
      retentionDivisor: env.RETENTION_DIVISOR,
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
    // Stop pulling, let active jobs finish or park, then close the BullMQ connections.
    own('edit workers', () => workers.close());
    const collector = startWorkerCollector({
      connection,
      prefix: env.REDIS_PREFIX,
      workloads,
      queues: workers.workers.map((w) => w.name),
      governorKey: env.RATE_LIMIT_KEY ?? env.RUNFLOW_API_KEY,
      metrics,
      logger,
    });
    own('metrics collector', () => collector.stop());
    logger.info(
      {
        queues: workers.workers.map((w) => w.name),
        metricsPort: metricsServer?.port,
        rateLimit: workloads.rateLimit,
        callbacks: Boolean(env.CALLBACK_URL),
      },
      'worker started',
    );
  },
});
