import { type EditQueue, jobTraceMetadata, type RedisClient } from '@runflow-queue/store';
import { ATTR, jobTraceContext, recordSpan, SPAN, SpanKind, tracingActive } from '@runflow-queue/tracing';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CallbackTarget } from './resolve-job.ts';

// Runflow's callback carries no trace context, so its span cannot come from the HTTP instrumentation:
// the route finds the job (by the echoed metadata or the run index), and once the answer is sent this
// reads the trace context the job carries and records "callback received" in that trace. Refused and
// unmatched callbacks get a span of their own (no job, no trace to join), with the code they got.

export interface CallbackTracing {
  /** Tells the span which job (and run) this request's callback was for. */
  matched(request: FastifyRequest, target: CallbackTarget | undefined, runId: string): void;
}

interface Seen {
  target?: CallbackTarget;
  runId?: string;
  /** The body's `status` (stored / duplicate / unmatched) or `code` (a refusal). */
  answer?: { status?: string; code?: string; message?: string };
}

const OFF: CallbackTracing = { matched: () => {} };

export function traceCallbacks(
  app: FastifyInstance,
  options: { path: string; redis: RedisClient; queueFor: (name: string) => EditQueue },
): CallbackTracing {
  if (!tracingActive()) return OFF;
  const seen = new WeakMap<FastifyRequest, Seen>();
  const entry = (request: FastifyRequest): Seen => {
    let found = seen.get(request);
    if (!found) {
      found = {};
      seen.set(request, found);
    }
    return found;
  };

  app.addHook('onSend', async (request, _reply, payload) => {
    if (request.routeOptions.url !== options.path || typeof payload !== 'string') return payload;
    try {
      entry(request).answer = JSON.parse(payload) as Seen['answer'];
    } catch {
      // not JSON: the span carries the status code alone
    }
    return payload;
  });

  // After the answer is on the wire: the look-up of the job's trace context never delays Runflow.
  app.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url !== options.path) return;
    const endTime = Date.now();
    const { target, runId, answer } = seen.get(request) ?? {};
    let metadata: string | undefined;
    if (target) {
      metadata = await jobTraceMetadata(options.redis, options.queueFor(target.queue), target.jobId).catch(
        () => undefined,
      );
    }
    const code = reply.statusCode >= 400 ? (answer?.code ?? `HTTP_${reply.statusCode}`) : undefined;
    recordSpan(SPAN.callback, {
      kind: SpanKind.SERVER,
      parent: jobTraceContext(metadata),
      startTime: endTime - reply.elapsedTime,
      endTime,
      attributes: () => ({
        'http.request.method': request.method,
        'http.route': options.path,
        'http.response.status_code': reply.statusCode,
        ...(runId ? { [ATTR.runId]: runId } : {}),
        ...(target ? { [ATTR.queue]: target.queue, [ATTR.jobId]: target.jobId } : {}),
        ...(answer?.status ? { 'rfq.callbackResult': answer.status } : {}),
      }),
      error: code ? { code, message: `${code}: ${answer?.message ?? `answered ${reply.statusCode}`}` } : undefined,
    });
  });

  return {
    matched(request, target, runId) {
      const found = entry(request);
      found.target = target;
      found.runId = runId;
    },
  };
}
