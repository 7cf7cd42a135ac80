import { createHash } from 'node:crypto';

/**
 * The job id for an idempotency key: same queue + key → same job, so a retried enqueue never makes a
 * second job or a second run. Hashed because BullMQ ids may not contain ':' and keys are caller text.
 */
export function jobIdForKey(queue: string, idempotencyKey: string): string {
  return `idem-${createHash('sha256').update(`${queue}\n${idempotencyKey}`).digest('base64url').slice(0, 32)}`;
}

/** Fingerprint of what was asked, to tell a replay (same request) from a conflicting reuse of a key. */
export function requestHash(request: { model: string; input: unknown; tags?: unknown; notifyUrl?: string }): string {
  // notifyUrl joins the fingerprint only when set, so hashes of requests without one are unchanged
  // (a replay of a job enqueued by an earlier deploy still matches).
  const parts = [request.model, request.input, request.tags ?? null];
  if (request.notifyUrl !== undefined) parts.push(request.notifyUrl);
  return createHash('sha256').update(canonicalJson(parts)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
