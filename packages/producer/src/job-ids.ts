import { createHash } from 'node:crypto';
import { DEFAULT_CALLER } from './job-owner.ts';

/**
 * The job id for an idempotency key: same queue + caller + key → same job, so a retried enqueue never
 * makes a second job or a second run, and two callers' keys never meet. Hashed because BullMQ ids may
 * not contain ':' and keys are caller text. The default caller (`undefined` or DEFAULT_CALLER) keeps
 * the queue-wide namespace of jobs enqueued before callers existed, so a retry across the deploy dedupes.
 */
export function jobIdForKey(queue: string, idempotencyKey: string, caller?: string): string {
  const scope = caller === undefined || caller === DEFAULT_CALLER ? queue : `${queue}\n${caller}`;
  return `idem-${createHash('sha256').update(`${scope}\n${idempotencyKey}`).digest('base64url').slice(0, 32)}`;
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
