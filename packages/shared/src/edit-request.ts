import { z } from 'zod';
import { NanoBanana2EditInput, NanoBananaProEditInput } from './edit-input.ts';
import { RunflowQueueError } from './error-codes.ts';
import { MAX_BODY_DEPTH, tooDeep } from './json-depth.ts';
import { LedgerName } from './ledger-name.ts';
import { MODEL_IDS } from './models.ts';

export const JobTags = z.strictObject({
  /** Carried into the spend ledger. */
  costCenter: z.string().min(1).max(64).optional(),
  labels: z.record(z.string().max(64), z.string().max(256)).optional(),
});
export type JobTags = z.infer<typeof JobTags>;

/**
 * Tags as a caller sends them: JobTags with a cost center that can only name its own ledger row.
 * Stricter than JobTags on purpose: jobs already in Redis (validated by JobTags) stay valid.
 */
export const RequestTags = JobTags.extend({ costCenter: LedgerName.optional() });
export type RequestTags = z.infer<typeof RequestTags>;

const requestFields = {
  /** Same key → same job → at most one run. Scoped to the queue and the caller. */
  idempotencyKey: z.string().min(1).max(255).optional(),
  tags: RequestTags.optional(),
};

/** What a caller asks for: a discriminated union on `model`, so each model has its own input type. */
export const EditRequest = z.discriminatedUnion('model', [
  z.strictObject({ model: z.literal('google/nano-banana-pro/edit'), input: NanoBananaProEditInput, ...requestFields }),
  z.strictObject({ model: z.literal('google/nano-banana-2/edit'), input: NanoBanana2EditInput, ...requestFields }),
]);
export type EditRequest = z.infer<typeof EditRequest>;
/** The caller's side of EditRequest (defaults not yet applied). */
export type EditRequestInput = z.input<typeof EditRequest>;

/** One field that failed validation: where, what was given, why, and what would have been accepted. */
export interface FieldIssue {
  path: string;
  value: unknown;
  message: string;
  allowed?: readonly unknown[];
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (tooDeep(value, 8)) return Array.isArray(value) ? '[…deeply nested…]' : '{…deeply nested…}';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value); // a cycle or a BigInt: not JSON, still describable
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function toFieldIssues(error: z.ZodError, root: unknown, pathPrefix = ''): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = [pathPrefix, ...issue.path.map(String)].filter(Boolean).join('.');
    const allowed = issue.code === 'invalid_value' ? issue.values : undefined;
    const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys : undefined;
    return {
      path: unknownKeys ? [path, unknownKeys.join(',')].filter(Boolean).join('.') : path || '(root)',
      value: valueAt(root, issue.path),
      message: issue.message,
      ...(allowed ? { allowed } : {}),
    };
  });
}

export function formatFieldIssues(issues: readonly FieldIssue[]): string {
  return issues
    .map((issue) => {
      const allowed = issue.allowed ? `; allowed: ${issue.allowed.join(', ')}` : '';
      return `${issue.path}: ${describeValue(issue.value)} — ${issue.message}${allowed}`;
    })
    .join('\n');
}

/** Thrown when an edit request is invalid; `details` lists every bad field. Nothing was enqueued. */
export class EditValidationError extends RunflowQueueError {
  readonly issues: FieldIssue[];
  constructor(issues: FieldIssue[], context = 'edit request') {
    super(
      issues.some((i) => i.path === 'model') ? 'UNKNOWN_MODEL' : 'INVALID_INPUT',
      `invalid ${context}:\n${formatFieldIssues(issues)}`,
      { details: issues },
    );
    this.name = 'EditValidationError';
    this.issues = issues;
  }
}

/** Validates a caller's request; throws EditValidationError naming every bad field. */
export function parseEditRequest(raw: unknown): EditRequest {
  if (tooDeep(raw)) {
    // Before zod: its issues would carry the whole value, and describing it would overflow the stack.
    throw new EditValidationError([
      { path: '(root)', value: '(too deep to show)', message: `nests deeper than ${MAX_BODY_DEPTH} levels` },
    ]);
  }
  const model = (raw as { model?: unknown } | null)?.model;
  if (typeof model !== 'string' || !(MODEL_IDS as string[]).includes(model)) {
    throw new EditValidationError([{ path: 'model', value: model, message: 'unknown model', allowed: MODEL_IDS }]);
  }
  const result = EditRequest.safeParse(raw);
  if (!result.success) throw new EditValidationError(toFieldIssues(result.error, raw));
  return result.data;
}
