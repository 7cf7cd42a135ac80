import type { CallerEditRequest, EditProducer, EnqueueOptions } from '@runflow-queue/producer';
import type { FieldIssue } from '@runflow-queue/shared';
import { REDACTED } from './redact-secrets.ts';

/**
 * Job data only the worker writes: its state machine (step, run, clientRef, deadlines, counters), the
 * budget reservation, and what the producer stamps (enqueuedAt, requestHash, caller). Bull Board's
 * Duplicate sends a job's data back whole; these are dropped, never taken — an operator can not hand a
 * new job another job's run (it would complete with that run's outputs and cost, with no run of its own).
 */
const WORKER_FIELDS = new Set([
  'step',
  'clientRef',
  'runId',
  'submittedAt',
  'deadlineAt',
  'transientErrors',
  'polls',
  'ambiguousSince',
  'resubmits',
  'abandoned',
  'abandonedAt',
  'manualRetries',
  'rateLimited',
  'reservation',
  'enqueuedAt',
  'requestHash',
  'caller',
]);

export interface BoardJob {
  request: CallerEditRequest;
  options: EnqueueOptions;
  /** The worker fields that were sent and dropped. */
  dropped: string[];
}

/** Paths of string values that still hold the redaction marker (what the board showed, not the secret). */
function redactedPaths(value: unknown): string[] {
  const found: string[] = [];
  const stack: { node: unknown; path: string }[] = [{ node: value, path: '' }];
  while (stack.length > 0 && found.length < 20) {
    const { node, path } = stack.pop() as { node: unknown; path: string };
    if (typeof node === 'string') {
      if (node.includes(REDACTED)) found.push(path || '(root)');
    } else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) stack.push({ node: child, path: path ? `${path}.${key}` : key });
    }
  }
  return found.sort();
}

/**
 * What Bull Board's Add job (and Duplicate) sends, as a producer request: caller fields only, through
 * the producer's own validation (the worker's `step` starts at `queued`). Refuses any value that still
 * holds "[redacted]" — a duplicated job would otherwise pay for a broken presigned URL or lose its
 * webhook token. Options: only `priority` and `delay` (as delayMs) are taken.
 */
export function boardJob(producer: EditProducer, body: unknown): BoardJob | { issues: FieldIssue[] } {
  const { data, options } = (body ?? {}) as { data?: unknown; options?: unknown };
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { issues: [{ path: 'data', value: data, message: 'send the job data as a JSON object (an edit request)' }] };
  }
  const dropped = Object.keys(data).filter((key) => WORKER_FIELDS.has(key));
  const request = Object.fromEntries(Object.entries(data).filter(([key]) => !WORKER_FIELDS.has(key)));
  const opts = (options ?? {}) as { priority?: unknown; delay?: unknown };
  const enqueueOptions = {
    // 0 is BullMQ's "no priority" (and what the worker gives a job once it has a run, so a duplicate
    // of a finished job carries it): the producer's default then.
    ...(opts.priority !== undefined && opts.priority !== 0 ? { priority: opts.priority } : {}),
    ...(opts.delay !== undefined && opts.delay !== 0 ? { delayMs: opts.delay } : {}),
  } as EnqueueOptions;
  const issues: FieldIssue[] = redactedPaths(request).map((path) => ({
    path: `data.${path}`,
    value: REDACTED,
    message: `holds the redaction marker ${REDACTED}: type the real value (the board never shows secrets)`,
  }));
  if (issues.length === 0) {
    for (const issue of producer.validate(request, enqueueOptions)) {
      const option = issue.path === 'priority' || issue.path === 'delayMs';
      issues.push({ ...issue, path: `${option ? 'options' : 'data'}.${issue.path}` });
    }
  }
  if (issues.length > 0) return { issues };
  return { request: request as CallerEditRequest, options: { ...enqueueOptions, caller: BOARD_CALLER }, dropped };
}

/** The caller of jobs added from the board (a ledger dimension like any other caller). */
export const BOARD_CALLER = 'dashboard';
