// One list of stable error codes. A job that fails carries one of these (or Runflow's own code for a
// permanent 4xx) at the start of its failedReason: "CODE: message".

export const ERROR_CODES = {
  INVALID_INPUT: { status: 422, retryable: false, summary: 'the edit request failed validation' },
  UNKNOWN_MODEL: { status: 422, retryable: false, summary: 'the model is not in the registry' },
  UNKNOWN_QUEUE: { status: 404, retryable: false, summary: 'the queue is not configured' },
  IDEMPOTENCY_KEY_REUSED: {
    status: 409,
    retryable: false,
    summary: 'the idempotency key was used before with a different request',
  },
  INVALID_JOB_DATA: { status: 422, retryable: false, summary: 'a dequeued job failed re-validation' },
  RUNFLOW_RETRIES_EXHAUSTED: { status: 503, retryable: false, summary: 'Runflow kept failing (5xx/429/network)' },
  RUN_FAILED: { status: 502, retryable: false, summary: 'the run ended failed on Runflow' },
  RUN_CANCELLED: { status: 502, retryable: false, summary: 'the run was cancelled on Runflow' },
  RUN_NOT_THIS_JOB: {
    status: 409,
    retryable: false,
    summary: "the run's metadata names another queue, job or clientRef: its result is not adopted",
  },
  RUN_DEADLINE_EXCEEDED: { status: 504, retryable: false, summary: 'no terminal result before the hard deadline' },
  BUDGET_EXCEEDED: { status: 402, retryable: false, summary: "the queue's budget for this window is spent" },
  MODEL_NOT_ALLOWED: { status: 422, retryable: false, summary: 'the queue is not configured for this model' },
  ATTEMPTS_EXHAUSTED: { status: 500, retryable: false, summary: "unexpected errors used up the queue's attempts" },
  RATE_LIMITED_TOO_LONG: {
    status: 429,
    retryable: false,
    summary: 'Runflow kept answering 429 for this job past the guard',
  },
  REDIS_UNAVAILABLE: {
    status: 503,
    retryable: true,
    summary: 'Redis did not answer in time, or refuses writes for now (OOM, READONLY)',
    retryAfterSeconds: 5,
  },
  WAIT_TIMEOUT: { status: 504, retryable: true, summary: 'the job did not finish within the wait timeout' },
  JOB_NOT_FOUND: { status: 404, retryable: false, summary: 'no job with that id' },
  CALLBACK_SIGNATURE_MISSING: { status: 401, retryable: false, summary: 'Runflow-Signature header missing' },
  CALLBACK_SIGNATURE_INVALID: {
    status: 401,
    retryable: false,
    summary: 'Runflow-Signature does not match any trusted secret',
  },
  CALLBACK_MALFORMED_JSON: { status: 400, retryable: false, summary: 'the callback body is not JSON' },
  CALLBACK_PAYLOAD_INVALID: { status: 400, retryable: false, summary: 'the callback body fails the schema' },
  CALLBACK_BODY_TOO_LARGE: { status: 413, retryable: false, summary: 'the callback body is over the size limit' },
  CALLBACK_UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, summary: 'the callback is not application/json' },
  CALLBACK_STORE_FAILED: { status: 503, retryable: true, summary: 'the callback could not be persisted' },
  CONFIG_INVALID: { status: 500, retryable: false, summary: 'configuration failed validation at boot' },
  // The caller's side: cancellation, webhooks, HTTP API.
  JOB_ABANDONED: {
    status: 409,
    retryable: false,
    summary: 'cancelled after submit: Runflow has no public cancel, so the run was paid for and settled',
  },
  JOB_BUSY: { status: 409, retryable: true, summary: 'a worker holds the job right now; cancel again in a moment' },
  JOB_ALREADY_FINISHED: { status: 409, retryable: false, summary: 'the job already completed or failed' },
  NOTIFY_URL_REJECTED: {
    status: 422,
    retryable: false,
    summary: 'the notifyUrl is not allowed (not https, loopback or a private network)',
  },
  NOTIFY_DELIVERY_FAILED: { status: 502, retryable: true, summary: 'the webhook receiver did not answer 2xx' },
  API_UNAUTHENTICATED: { status: 401, retryable: false, summary: 'missing or unknown bearer token' },
  MALFORMED_JSON: { status: 400, retryable: false, summary: 'the request body is not valid JSON' },
  BODY_TOO_LARGE: { status: 413, retryable: false, summary: 'the request body is over the size limit' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, summary: 'the request body is not application/json' },
  // The codes the HTTP apps send for what no other code names, and the new bounds.
  BODY_TOO_DEEP: { status: 400, retryable: false, summary: 'the request body nests deeper than the maximum depth' },
  BAD_REQUEST: { status: 400, retryable: false, summary: 'the HTTP request is malformed (headers, URL, method)' },
  UNAUTHORIZED: { status: 401, retryable: false, summary: 'dashboard: missing or wrong credentials' },
  FORBIDDEN: {
    status: 403,
    retryable: false,
    summary: 'the credential may not do this (dashboard: view-only credential; API: /v1/admin/* needs an admin token)',
  },
  CROSS_ORIGIN_WRITE: {
    status: 403,
    retryable: false,
    summary: 'dashboard: a write request from another origin (CSRF guard)',
  },
  ACTION_DISABLED: {
    status: 405,
    retryable: false,
    summary: 'dashboard: the action is disabled for edit queues (it would write worker state)',
  },
  QUEUE_READ_ONLY: {
    status: 405,
    retryable: false,
    summary: 'dashboard: the queue is read-only (DASHBOARD_READ_ONLY_QUEUES)',
  },
  NOT_FOUND: { status: 404, retryable: false, summary: 'no such route' },
  REQUEST_TIMEOUT: { status: 408, retryable: true, summary: 'the request was not received within the timeout' },
  UNAVAILABLE: { status: 503, retryable: true, summary: 'a dependency (Redis) did not answer; try again' },
  INTERNAL: { status: 500, retryable: true, summary: 'an unexpected error; logged with the request id' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with a stable code. `retryable: false` becomes BullMQ's UnrecoverableError in workers. */
export class RunflowQueueError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'RunflowQueueError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.retryable = ERROR_CODES[code].retryable;
    this.details = options.details;
  }
}

/** "CODE: message" — the form of a failed job's failedReason. */
export function formatFailure(code: string, message: string): string {
  return `${code}: ${message}`;
}

/** The code at the start of a failedReason, or undefined for reasons we did not write. */
export function failureCode(failedReason: string | undefined): string | undefined {
  const match = /^([A-Z][A-Z0-9_]+): /.exec(failedReason ?? '');
  return match?.[1];
}
