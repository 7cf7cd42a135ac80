import { sendError } from '@runflow-queue/http-core';
import type { DashboardMetrics } from '@runflow-queue/metrics';
import { type AccountHealth, readAccountHealth } from '@runflow-queue/stats';
import { AccountHolds, type RedisClient } from '@runflow-queue/store';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DashboardRole } from './check-credentials.ts';
import { renderHoldsPage } from './holds-page.ts';

export interface HoldsRoutesDeps {
  redis: RedisClient;
  prefix: string;
  /** The workers' RATE_LIMIT_KEY, else RUNFLOW_API_KEY; unset: no holds are shown. */
  accountKey: string | undefined;
  queues: readonly string[];
  roleOf: (request: FastifyRequest) => DashboardRole | undefined;
}

/** The account's health, or undefined when the dashboard does not know the account. */
export function healthReader(deps: Pick<HoldsRoutesDeps, 'redis' | 'prefix' | 'accountKey'>) {
  return (): Promise<AccountHealth | undefined> =>
    deps.accountKey
      ? readAccountHealth(deps.redis, { prefix: deps.prefix, accountKey: deps.accountKey })
      : Promise.resolve(undefined);
}

const UNCONFIGURED =
  'the dashboard does not know the Runflow account: set RATE_LIMIT_KEY (or RUNFLOW_API_KEY) in its environment, as the workers have it';

/** GET /holds (page), GET /api/health (JSON), POST /api/holds/pause|resume (operator; the write guard checks origin and type). */
export function registerHoldsRoutes(app: FastifyInstance, deps: HoldsRoutesDeps): void {
  const health = healthReader(deps);
  app.get('/holds', async (request, reply) => {
    const current = await health();
    if (!current) return sendError(reply, 'NOT_FOUND', UNCONFIGURED);
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(renderHoldsPage(current, { operator: deps.roleOf(request) === 'operator', queues: deps.queues }));
  });
  app.get('/api/health', async (_request, reply) => (await health()) ?? sendError(reply, 'NOT_FOUND', UNCONFIGURED));
  for (const action of ['pause', 'resume'] as const) {
    app.post(`/api/holds/${action}`, async (request, reply) => {
      if (!deps.accountKey) return sendError(reply, 'NOT_FOUND', UNCONFIGURED);
      const body = (request.body ?? {}) as { queue?: unknown; reason?: unknown };
      const queue = body.queue === undefined || body.queue === '' ? undefined : body.queue;
      if (queue !== undefined && (typeof queue !== 'string' || !deps.queues.includes(queue))) {
        return sendError(
          reply,
          'UNKNOWN_QUEUE',
          `queue ${JSON.stringify(queue)} is not on this dashboard; use one of: ${deps.queues.join(', ')}`,
        );
      }
      const holds = new AccountHolds(deps.redis, { prefix: deps.prefix, accountKey: deps.accountKey });
      if (action === 'pause') {
        const reason = typeof body.reason === 'string' ? body.reason.slice(0, 500) : '';
        const hold = await holds.pause(queue, reason, 'dashboard operator');
        return {
          paused: {
            queue: hold.queue ?? null,
            reason: hold.reason,
            by: hold.by,
            since: new Date(hold.since).toISOString(),
          },
        };
      }
      return { resumed: await holds.resume(queue), queue: queue ?? null };
    });
  }
}

/** rfq_hold_active from the dashboard too, so the hold alerts fire with every worker down. */
export function setHoldGauges(metrics: DashboardMetrics, health: AccountHealth | undefined): void {
  if (!health) return;
  metrics.holdActive.reset();
  metrics.holdActive.set({ hold: 'breaker', queue: '*' }, health.holds.breaker.open ? 1 : 0);
  metrics.holdActive.set({ hold: 'credit', queue: '*' }, health.holds.credit.held ? 1 : 0);
  metrics.holdActive.set({ hold: 'pause', queue: '*' }, 0);
  for (const pause of health.holds.pauses) metrics.holdActive.set({ hold: 'pause', queue: pause.queue ?? '*' }, 1);
}
