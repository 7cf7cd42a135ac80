import { createDashboardMetrics, type DashboardMetrics, type PeriodicCollector } from '@runflow-queue/metrics';
import type { WorkloadsConfig } from '@runflow-queue/shared';
import { collectStats } from '@runflow-queue/stats';
import { openQueue, type RedisClient, SpendLedger } from '@runflow-queue/store';
import type { Queue } from 'bullmq';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { BOARD_PATH, registerBoard } from './board.ts';
import { challengeFor, createCredentialCheck, type DashboardAuth } from './check-credentials.ts';
import { startDashboardCollector } from './dashboard-collector.ts';
import { renderSpendPage } from './spend-page.ts';

export interface DashboardDeps {
  redis: RedisClient;
  prefix: string;
  /** Every queue the board and the spend page show. */
  queues: readonly string[];
  /** Basic (user + password) and/or bearer token; at least one. */
  auth: DashboardAuth;
  /** Queues shown read-only in Bull Board; `*` for all. */
  readOnlyQueues?: readonly string[];
  /** The workers' workloads: budgets on the spend page, the models each queue's Add Job form offers. */
  workloads?: WorkloadsConfig;
  logger: Logger;
  /** Served at GET /metrics (default: the dashboard's metrics without process metrics). */
  metrics?: DashboardMetrics;
  /** How often the /metrics gauges are refreshed from Redis (default 15 s). */
  collectIntervalMs?: number;
  /** Seconds between reloads of /spend (default 30; 0 = never). */
  spendRefreshSeconds?: number;
}

/** Answered without credentials: probes and Prometheus (the numbers there are not secrets). */
const PUBLIC_PATHS = new Set(['/healthz', '/metrics']);

/**
 * Operators' dashboard: Bull Board at /queues, the spend and throughput page at /spend, the JSON the CLI
 * prints at /api/stats and /api/spend, Prometheus at /metrics. Everything but /healthz and /metrics
 * needs credentials (401 with a challenge otherwise).
 */
export function buildApp(deps: DashboardDeps): FastifyInstance {
  const readOnly = new Set(deps.readOnlyQueues ?? []);
  const unknown = [...readOnly].filter((name) => name !== '*' && !deps.queues.includes(name));
  if (unknown.length > 0) throw new Error(`read-only queues not among the queues shown: ${unknown.join(', ')}`);
  const authorized = createCredentialCheck(deps.auth);
  const metrics = deps.metrics ?? createDashboardMetrics();
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Bull Board polls its API every few seconds per open tab: request lines would drown the log.
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;

  const queues = new Map<string, Queue>();
  for (const name of deps.queues) {
    queues.set(name, openQueue(deps.redis, deps.prefix, name, deps.logger));
  }
  const ledger = new SpendLedger(deps.redis, { prefix: deps.prefix });
  const stats = () => collectStats(deps.redis, { prefix: deps.prefix, queues: deps.queues, workloads: deps.workloads });

  app.addHook('onRequest', async (request, reply) => {
    if (PUBLIC_PATHS.has(request.url.split('?')[0])) return;
    if (authorized(request.headers.authorization)) return;
    return reply
      .code(401)
      .header('www-authenticate', challengeFor(deps.auth))
      .send({ code: 'UNAUTHORIZED', message: 'log in with the dashboard user and password, or a bearer token' });
  });

  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, request, reply) => {
    if ((error.statusCode ?? 500) < 500)
      return reply.code(error.statusCode as number).send({ code: error.code, message: error.message });
    request.log.error({ err: error, url: request.url }, 'dashboard request failed');
    return reply.code(503).send({ code: 'UNAVAILABLE', message: 'could not read from Redis; try again' });
  });

  registerBoard(app, {
    queues,
    readOnly: (name) => readOnly.has('*') || readOnly.has(name),
    workloads: deps.workloads,
  });

  app.get('/', async (_request, reply) => reply.redirect('/spend'));
  app.get('/spend', async (_request, reply) => {
    const [fleet, rows] = await Promise.all([stats(), ledger.rows(deps.queues)]);
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(renderSpendPage({ stats: fleet, rows, refreshSeconds: deps.spendRefreshSeconds }));
  });
  // The JSON of `pnpm stats --json` and `pnpm spend --json`, from the same calls.
  app.get('/api/stats', async () => stats());
  app.get('/api/spend', async () => ledger.rows(deps.queues));
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  app.get('/healthz', async () => ({ ok: true }));

  let collector: PeriodicCollector | undefined;
  app.addHook('onReady', async () => {
    collector = startDashboardCollector({
      redis: deps.redis,
      prefix: deps.prefix,
      queues,
      workloads: deps.workloads,
      metrics,
      logger: deps.logger,
      intervalMs: deps.collectIntervalMs ?? 15_000,
    });
  });
  app.addHook('onClose', async () => {
    await collector?.stop();
    await Promise.all([...queues.values()].map((queue) => queue.close()));
  });
  return app;
}

export { BOARD_PATH };
