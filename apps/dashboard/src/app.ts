import { Readable } from 'node:stream';
import { registerHttpCore, sendError } from '@runflow-queue/http-core';
import { createDashboardMetrics, type DashboardMetrics, type PeriodicCollector } from '@runflow-queue/metrics';
import type { EditProducer } from '@runflow-queue/producer';
import { type ServerLimits, serverLimitOptions, type WorkloadsConfig } from '@runflow-queue/shared';
import { collectStats } from '@runflow-queue/stats';
import { openQueue, type RedisClient, SpendLedger, SpendRecords } from '@runflow-queue/store';
import type { Queue } from 'bullmq';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, LogController } from 'fastify';
import type { Logger } from 'pino';
import { BOARD_PATH, registerBoard } from './board.ts';
import { guardBoardWrites } from './board-access.ts';
import { challengeFor, createCredentialCheck, type DashboardAuth, type DashboardRole } from './check-credentials.ts';
import { startDashboardCollector } from './dashboard-collector.ts';
import { DASHBOARD_LIMITS } from './env.ts';
import { holdsBanner } from './holds-page.ts';
import { healthReader, registerHoldsRoutes } from './holds-routes.ts';
import { csvLines, exportWindow } from './spend-export-route.ts';
import { renderSpendPage } from './spend-page.ts';

export interface DashboardDeps {
  redis: RedisClient;
  prefix: string;
  /** Every queue the board and the spend page show. */
  queues: readonly string[];
  /**
   * The viewer's Basic (user + password) and/or bearer token, at least one; and optionally the
   * operator's, distinct from them. Only the operator may change jobs; without one the board is read-only.
   */
  auth: DashboardAuth;
  /** Queues read-only even for the operator; `*` for all. */
  readOnlyQueues?: readonly string[];
  /** What Add job enqueues through (the producer's validation); unset = Add job is refused. */
  producer?: EditProducer;
  /** Origins a browser may send write actions from; unset = the request's own Host. */
  allowedOrigins?: readonly string[];
  /** Slow-client timeouts and the connection cap (default: DASHBOARD_LIMITS). */
  limits?: ServerLimits;
  /** The workers' workloads: budgets on the spend page, the models each queue's Add Job form offers. */
  workloads?: WorkloadsConfig;
  logger: Logger;
  /** Served at GET /metrics (default: the dashboard's metrics without process metrics). */
  metrics?: DashboardMetrics;
  /** How often the /metrics gauges are refreshed from Redis (default 15 s). */
  collectIntervalMs?: number;
  /** Seconds between reloads of /spend (default 30; 0 = never). */
  spendRefreshSeconds?: number;
  /** The workers' RATE_LIMIT_KEY, else RUNFLOW_API_KEY: the holds banner, /holds and pause / resume. Unset: none. */
  accountKey?: string;
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
  const roleFor = createCredentialCheck(deps.auth);
  const roles = new WeakMap<FastifyRequest, DashboardRole>();
  const isReadOnly = (name: string) => readOnly.has('*') || readOnly.has(name);
  const metrics = deps.metrics ?? createDashboardMetrics();
  const limits = deps.limits ?? DASHBOARD_LIMITS;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    ...serverLimitOptions(limits),
    // Bull Board polls its API every few seconds per open tab: request lines would drown the log.
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  app.server.maxConnections = limits.maxConnections;
  // Bull Board sends JSON: no text/plain bodies (the one type a cross-site form could send).
  app.removeContentTypeParser('text/plain');

  const queues = new Map<string, Queue>();
  for (const name of deps.queues) {
    queues.set(name, openQueue(deps.redis, deps.prefix, name, deps.logger));
  }
  const ledger = new SpendLedger(deps.redis, { prefix: deps.prefix });
  const stats = () => collectStats(deps.redis, { prefix: deps.prefix, queues: deps.queues, workloads: deps.workloads });

  app.addHook('onRequest', async (request, reply) => {
    if (PUBLIC_PATHS.has(request.url.split('?')[0])) return;
    const role = roleFor(request.headers.authorization);
    if (role) {
      roles.set(request, role);
      return;
    }
    reply.header('www-authenticate', challengeFor(deps.auth));
    return sendError(reply, 'UNAUTHORIZED', 'log in with the dashboard user and password, or a bearer token');
  });
  guardBoardWrites(app, {
    roleOf: (request) => roles.get(request),
    readOnly: isReadOnly,
    producer: deps.producer,
    allowedOrigins: deps.allowedOrigins,
  });

  // Anything unexpected here is Redis away (every page reads it): 503, try again.
  registerHttpCore(app, {
    bodyLimitBytes: app.initialConfig.bodyLimit ?? 1024 * 1024,
    bodyErrors: { unsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE' },
    unexpected: { code: 'UNAVAILABLE', message: 'could not read from Redis; try again' },
    failureMessage: 'dashboard request failed',
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
  );

  registerBoard(app, { queues, readOnly: isReadOnly, workloads: deps.workloads, producer: deps.producer });

  const holdsDeps = {
    redis: deps.redis,
    prefix: deps.prefix,
    accountKey: deps.accountKey,
    queues: deps.queues,
    roleOf: (request: FastifyRequest) => roles.get(request),
  };
  registerHoldsRoutes(app, holdsDeps);
  const health = healthReader(holdsDeps);

  app.get('/', async (_request, reply) => reply.redirect('/spend'));
  app.get('/spend', async (_request, reply) => {
    const [fleet, rows, unconfirmed, current] = await Promise.all([
      stats(),
      ledger.rows(deps.queues),
      ledger.unconfirmedSummary(),
      health(),
    ]);
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(
        renderSpendPage({
          stats: fleet,
          rows,
          unconfirmed,
          refreshSeconds: deps.spendRefreshSeconds,
          banner: holdsBanner(current),
        }),
      );
  });
  app.get('/spend/export.csv', async (request, reply) => {
    const window = exportWindow(request.query);
    if ('issue' in window) return sendError(reply, 'BAD_REQUEST', window.issue);
    const records = new SpendRecords(deps.redis, { prefix: deps.prefix });
    return reply
      .type('text/csv; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="spend-${window.fromDay}-${window.toDay}.csv"`)
      .send(Readable.from(csvLines(records, { ...window, queues: deps.queues })));
  });
  // The JSON of `pnpm stats --json` and `pnpm spend --json`, from the same calls.
  app.get('/api/stats', async () => stats());
  app.get('/api/spend', async () => ledger.rows(deps.queues));
  app.get('/api/spend/unconfirmed', async () => ledger.unconfirmedSummary());
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

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
      health,
    });
  });
  app.addHook('onClose', async () => {
    await collector?.stop();
    await Promise.all([...queues.values()].map((queue) => queue.close()));
  });
  return app;
}

export { BOARD_PATH };
