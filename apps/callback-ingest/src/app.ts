import { registerHttpCore, sendError } from '@runflow-queue/http-core';
import { createIngestMetrics, type IngestMetrics } from '@runflow-queue/metrics';
import { CallbackPayload, MAX_BODY_DEPTH, type ServerLimits, serverLimitOptions, tooDeep } from '@runflow-queue/shared';
import {
  CallbackInbox,
  type EditQueue,
  openQueue,
  promoteJob,
  type RedisClient,
  RunIndex,
  SpendLedger,
  settleIfOrphan,
} from '@runflow-queue/store';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { observeCallbackReply } from './callback-metrics.ts';
import { traceCallbacks } from './callback-tracing.ts';
import { INGEST_LIMITS } from './env.ts';
import { resolveJob } from './resolve-job.ts';
import { verifySignature } from './verify-signature.ts';

export const CALLBACK_PATH = '/v1/callbacks/runflow';

export interface IngestDeps {
  redis: RedisClient;
  prefix: string;
  queues: readonly string[];
  /** Every trusted signing secret. */
  secrets: readonly string[];
  bodyLimitBytes?: number;
  /** Slow-client timeouts and the connection cap (default: INGEST_LIMITS). */
  limits?: ServerLimits;
  logger: Logger;
  /** Served at GET /metrics (default: a registry of ingest's metrics without process metrics). */
  metrics?: IngestMetrics;
  /** Divides the retention of stored callbacks and waste markers (benchmarks; default 1). */
  retentionDivisor?: number;
}

/**
 * Receives Runflow's signed callbacks: verify the signature over the raw bytes BEFORE parsing, store
 * the payload durably (first write wins), THEN promote the job. 2xx only once the payload is in Redis.
 */
export function buildApp(deps: IngestDeps): FastifyInstance {
  const bodyLimit = deps.bodyLimitBytes ?? 1024 * 1024;
  const limits = deps.limits ?? INGEST_LIMITS;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit,
    ...serverLimitOptions(limits),
    // One line per callback is ours to write (at debug); fastify's per-request lines would double it.
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  app.server.maxConnections = limits.maxConnections;
  const metrics = deps.metrics ?? createIngestMetrics();
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.routeOptions.url === CALLBACK_PATH)
      observeCallbackReply(metrics, reply.statusCode, payload, reply.elapsedTime);
    return payload;
  });
  const { retentionDivisor } = deps;
  const inbox = new CallbackInbox(deps.redis, { prefix: deps.prefix, retentionDivisor });
  const runIndex = new RunIndex(deps.redis, { prefix: deps.prefix });
  const ledger = new SpendLedger(deps.redis, { prefix: deps.prefix });
  const queueNames = new Set(deps.queues);
  const queues = new Map<string, EditQueue>();
  const queueFor = (name: string): EditQueue => {
    let queue = queues.get(name);
    if (!queue) {
      queue = openQueue(deps.redis, deps.prefix, name, deps.logger);
      queues.set(name, queue);
    }
    return queue;
  };

  const tracing = traceCallbacks(app, { path: CALLBACK_PATH, redis: deps.redis, queueFor });

  // The raw bytes are what Runflow signed: keep them as a Buffer; parse only after verifying.
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  registerHttpCore(app, {
    bodyLimitBytes: bodyLimit,
    bodyErrors: { tooLarge: 'CALLBACK_BODY_TOO_LARGE', unsupportedMediaType: 'CALLBACK_UNSUPPORTED_MEDIA_TYPE' },
    failureMessage: 'callback handling failed',
    ready: () => deps.redis.ping(),
  });

  app.post(CALLBACK_PATH, async (request, reply) => {
    const raw = request.body as Buffer | undefined;
    if (!Buffer.isBuffer(raw))
      return sendError(reply, 'CALLBACK_UNSUPPORTED_MEDIA_TYPE', 'send Content-Type: application/json');
    const signature = request.headers['runflow-signature'];
    const check = verifySignature(raw, Array.isArray(signature) ? signature[0] : signature, deps.secrets);
    if (check !== 'valid') {
      request.log.warn({ check, requestId: request.headers['runflow-request-id'] }, 'callback rejected: signature');
      return check === 'missing'
        ? sendError(reply, 'CALLBACK_SIGNATURE_MISSING', 'Runflow-Signature header is required')
        : sendError(reply, 'CALLBACK_SIGNATURE_INVALID', 'Runflow-Signature matches no trusted secret');
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      return sendError(reply, 'CALLBACK_MALFORMED_JSON', 'body is not valid JSON');
    }
    if (tooDeep(json)) return sendError(reply, 'BODY_TOO_DEEP', `body nests deeper than ${MAX_BODY_DEPTH} levels`);
    const parsed = CallbackPayload.safeParse(json);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
      return sendError(reply, 'CALLBACK_PAYLOAD_INVALID', `callback payload invalid at: ${fields}`);
    }
    const payload = parsed.data;

    let stored: boolean;
    let current: boolean;
    let target: Awaited<ReturnType<typeof resolveJob>>;
    try {
      target = await resolveJob(payload, queueNames, runIndex);
      tracing.matched(request, target, payload.run_id);
      if (!target) {
        // Not ours (or no longer known): acknowledge so Runflow stops retrying, and count it.
        request.log.warn({ runId: payload.run_id }, 'callback for an unknown run');
        return reply.code(202).send({ status: 'unmatched' });
      }
      ({ stored, current } = await inbox.storeFor(
        target.queue,
        payload.run_id,
        target.clientRef,
        raw.toString('utf8'),
        {
          jobKey: queueFor(target.queue).toKey(target.jobId),
        },
      ));
    } catch (error) {
      request.log.error({ err: error, runId: payload.run_id }, 'could not persist callback');
      return sendError(reply, 'CALLBACK_STORE_FAILED', 'could not persist the callback; retry later');
    }

    // Durable now. Promote even on a duplicate: the first delivery may have died before promoting.
    // Not parked: the worker is still active and will see the inbox after parking.
    if (!(await promoteJob(queueFor(target.queue), target.jobId))) {
      request.log.debug({ jobId: target.jobId }, 'promote skipped: the job was not parked');
    }
    // A run its job did not keep (an ambiguous submit's first run, a run that ended after its job) billed
    // all the same: settle it as waste. On failure answer 503: the retry redoes this, settle-once.
    // The store script already saw the usual case — the job is going and this is its run — so the job
    // is read only for a run it may not have kept.
    try {
      const orphan = current ? 'current' : await settleIfOrphan(queueFor(target.queue), ledger, target.jobId, payload);
      if (orphan === 'waste') {
        request.log.warn({ runId: payload.run_id, jobId: target.jobId }, 'run no job kept: settled as waste');
      }
    } catch (error) {
      request.log.error({ err: error, runId: payload.run_id }, 'could not check the callback for an orphan run');
      return sendError(reply, 'CALLBACK_STORE_FAILED', 'could not settle the callback; retry later');
    }
    request.log.debug({ runId: payload.run_id, queue: target.queue, jobId: target.jobId, stored }, 'callback stored');
    return reply.code(200).send({ status: stored ? 'stored' : 'duplicate' });
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
  );
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  app.addHook('onClose', async () => {
    await Promise.all([...queues.values()].map((queue) => queue.close()));
  });
  return app;
}
