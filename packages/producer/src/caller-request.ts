import {
  type EditRequest,
  type EditRequestInput,
  EditValidationError,
  type FieldIssue,
  LedgerName,
  type NotifyUrlPolicy,
  notifyUrlRejection,
  parseEditRequest,
  RunflowQueueError,
} from '@runflow-queue/shared';

/**
 * What a caller enqueues: an edit request — a discriminated union on `model`, so each model's input
 * has its own type and a field of the wrong model is a compile error — plus an optional webhook URL.
 */
export type CallerEditRequest = EditRequestInput & {
  /**
   * POSTed a signed `edit.completed` / `edit.failed` webhook when the job ends (Standard Webhooks).
   * https only; loopback and private-network targets only when the policy allows them.
   */
  notifyUrl?: string;
};

export interface EnqueueOptions {
  /**
   * 1 is the highest, up to 2,097,152; equal priorities run FIFO. Unset = DEFAULT_PRIORITY (1000), so
   * 1–999 jumps the default backlog and 1001+ waits behind it.
   */
  priority?: number;
  /** Wait this long before the job may be picked up (ms), at most MAX_DELAY_MS. */
  delayMs?: number;
  /**
   * The named caller enqueueing (recorded on the job; a ledger dimension; idempotency keys are scoped
   * to it). Letters, digits, `.`, `_`, `-`, up to 64. Unset = the default caller.
   */
  caller?: string;
}

/** BullMQ's largest priority (2^21). */
export const MAX_PRIORITY = 2_097_152;

/**
 * Longest `delayMs`: 7 days. A job delayed longer would outlive the idempotency window of its key and
 * sit parked where nobody looks; schedule it later instead.
 */
export const MAX_DELAY_MS = 7 * 24 * 3600_000;

export interface ValidatedRequest {
  request: EditRequest;
  notifyUrl: string | undefined;
}

const LEDGER_NAME_RULE = '1 to 64 letters, digits, ".", "_" or "-", starting with a letter or a digit';

function optionIssues(options: EnqueueOptions): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const { priority, delayMs } = options;
  if (priority !== undefined && (!Number.isInteger(priority) || priority < 1 || priority > MAX_PRIORITY)) {
    issues.push({
      path: 'priority',
      value: priority,
      message: `must be an integer from 1 (runs first) to ${MAX_PRIORITY}; omit it for the default (1000)`,
    });
  }
  if (delayMs !== undefined && (!Number.isSafeInteger(delayMs) || delayMs < 0 || delayMs > MAX_DELAY_MS)) {
    issues.push({
      path: 'delayMs',
      value: delayMs,
      message: `must be a whole number of milliseconds from 0 to ${MAX_DELAY_MS} (7 days)`,
    });
  }
  if (options.caller !== undefined && !LedgerName.safeParse(options.caller).success) {
    issues.push({ path: 'caller', value: options.caller, message: LEDGER_NAME_RULE });
  }
  return issues;
}

/**
 * Validates a caller's request and options together and reports every bad field at once, in the
 * shape the HTTP API returns (path, value, message, allowed). Returns the issues; empty when valid.
 */
export function callerRequestIssues(
  raw: unknown,
  options: EnqueueOptions = {},
  policy: NotifyUrlPolicy = {},
): FieldIssue[] {
  try {
    validateCallerRequest(raw, options, policy);
    return [];
  } catch (error) {
    if (error instanceof EditValidationError) return error.issues;
    throw error;
  }
}

/** Throws EditValidationError naming every bad field (request, notifyUrl, priority, delayMs). */
export function validateCallerRequest(
  raw: unknown,
  options: EnqueueOptions = {},
  policy: NotifyUrlPolicy = {},
): ValidatedRequest {
  let rest: unknown = raw;
  let notifyUrl: unknown;
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw) && 'notifyUrl' in raw) {
    ({ notifyUrl, ...rest } = raw as Record<string, unknown>);
  }
  const issues: FieldIssue[] = [];
  let request: EditRequest | undefined;
  try {
    request = parseEditRequest(rest);
  } catch (error) {
    if (!(error instanceof EditValidationError)) throw error;
    issues.push(...error.issues);
  }
  if (notifyUrl !== undefined) {
    const rejection = notifyUrlRejection(notifyUrl, policy);
    if (rejection) issues.push({ path: 'notifyUrl', value: notifyUrl, message: rejection });
  }
  issues.push(...optionIssues(options));
  if (issues.length > 0 || !request) throw new EditValidationError(issues);
  return { request, notifyUrl: notifyUrl as string | undefined };
}

/** The issues of enqueue options alone (priority, delayMs): for bulk enqueue, checked once. */
export function enqueueOptionIssues(options: EnqueueOptions): FieldIssue[] {
  return optionIssues(options);
}

/** Thrown by enqueueEdits when any item is invalid; nothing was enqueued. */
export class BulkValidationError extends RunflowQueueError {
  readonly items: { index: number; issues: FieldIssue[] }[];
  constructor(items: { index: number; issues: FieldIssue[] }[]) {
    const lines = items.flatMap(({ index, issues }) => issues.map((i) => `  [${index}] ${i.path}: ${i.message}`));
    super('INVALID_INPUT', `${items.length} invalid edit request(s); nothing enqueued:\n${lines.join('\n')}`, {
      details: items,
    });
    this.name = 'BulkValidationError';
    this.items = items;
  }
}

/** Every request validated under `policy`; BulkValidationError (issues by index) when any is invalid. */
export function validateCallerRequests(
  requests: readonly CallerEditRequest[],
  policy: NotifyUrlPolicy = {},
): ValidatedRequest[] {
  const invalid: { index: number; issues: FieldIssue[] }[] = [];
  const valid: ValidatedRequest[] = [];
  requests.forEach((request, index) => {
    try {
      valid.push(validateCallerRequest(request, {}, policy));
    } catch (error) {
      if (!(error instanceof EditValidationError)) throw error;
      invalid.push({ index, issues: error.issues });
    }
  });
  if (invalid.length > 0) throw new BulkValidationError(invalid);
  return valid;
}
