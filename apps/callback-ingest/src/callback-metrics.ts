import type { IngestMetrics } from '@runflow-queue/metrics';

/**
 * Counts one answer of the callback route from what it sent: `{status}` on 2xx (stored, duplicate,
 * unmatched), `{code}` on a refusal. Reading the reply keeps the handler free of metrics code, and
 * covers refusals fastify raises before the handler runs (413, 415).
 */
export function observeCallbackReply(
  metrics: IngestMetrics,
  statusCode: number,
  payload: unknown,
  elapsedMs: number,
): void {
  let body: { status?: unknown; code?: unknown } = {};
  try {
    if (typeof payload === 'string') body = JSON.parse(payload) as typeof body;
  } catch {
    // not JSON: counted by status below
  }
  if (statusCode >= 400) {
    metrics.callbacksRejected.inc({ reason: typeof body.code === 'string' ? body.code : `HTTP_${statusCode}` });
    return;
  }
  const result = typeof body.status === 'string' ? body.status : 'unknown';
  metrics.callbacks.inc({ result });
  if (result === 'stored' || result === 'duplicate') metrics.callbackStore.observe(elapsedMs / 1000);
}
