/**
 * The Runflow endpoints the workers call (findRuns: only to resolve an ambiguous submit; listRuns and
 * getBalance: the spend reconciler; health and getBalance: probing whether a hold — the breaker, the
 * credit hold — can lift).
 */
export type RunflowEndpoint = 'createRun' | 'getRun' | 'findRuns' | 'listRuns' | 'getBalance' | 'health';

/**
 * What the caller may do next:
 * - `retryable`: nothing happened on Runflow's side (or a read failed); back off and call again.
 * - `ambiguous`: a create request reached Runflow but no usable answer came back, so the run may exist
 *   (and may be billed). Resolve it (look the run up) before creating again.
 * - `permanent`: Runflow rejected the request; the same call will fail the same way.
 */
export type RunflowErrorKind = 'retryable' | 'ambiguous' | 'permanent';

/** Codes this client sets when Runflow's body carries none. Runflow's own codes pass through unchanged. */
export const CLIENT_ERROR_CODES = {
  RATE_LIMITED: '429 without a code in the body',
  SERVER_ERROR: '5xx or 408 without a code in the body',
  NETWORK_ERROR: 'the connection failed before the request was written (refused, DNS, TLS, ...)',
  CONNECT_TIMEOUT: 'no connection within connectTimeoutMs; the request was not written',
  TIMEOUT: 'headersTimeoutMs/bodyTimeoutMs passed (or the caller’s signal timed out) after the request was written',
  CONNECTION_RESET: 'the socket was reset or closed by the other side after the request was written',
  ABORTED: 'the caller’s AbortSignal fired',
  INVALID_RESPONSE: 'a 2xx whose body is not a run object',
  RESPONSE_TOO_LARGE: 'the response body passed the client’s size cap',
  CLIENT_CLOSED: 'called after close(); nothing was sent',
  INVALID_REQUEST: 'the request could not be built (unknown model, empty run id, bad header value); nothing was sent',
  // Plus `HTTP_<status>` for a 4xx whose body carries no code.
} as const;

export interface RunflowApiErrorInit {
  kind: RunflowErrorKind;
  endpoint: RunflowEndpoint;
  status: number | undefined;
  code: string;
  retryAfterMs?: number | undefined;
  requestSent: boolean;
  errors?: unknown;
  runflowMessage?: string | undefined;
  cause?: unknown;
}

/** Every failure of the Runflow client: classified, with a stable code and a message meant for humans. */
export class RunflowApiError extends Error {
  readonly kind: RunflowErrorKind;
  readonly endpoint: RunflowEndpoint;
  /** HTTP status, or undefined when no response headers arrived. */
  readonly status: number | undefined;
  /** Runflow's `code` when the body had one, otherwise one of CLIENT_ERROR_CODES or `HTTP_<status>`. */
  readonly code: string;
  /** From `Retry-After` on a 429/503 when present; undefined means "use your own backoff". */
  readonly retryAfterMs: number | undefined;
  /** False only when the request provably never left this process (nothing was written to a socket). */
  readonly requestSent: boolean;
  /** Runflow's per-field details (`errors[]`, or a `detail` array), as sent. */
  readonly errors: unknown;
  /** Runflow's own `message` (or `detail`), without the client's context. */
  readonly runflowMessage: string | undefined;

  constructor(message: string, init: RunflowApiErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'RunflowApiError';
    this.kind = init.kind;
    this.endpoint = init.endpoint;
    this.status = init.status;
    this.code = init.code;
    this.retryAfterMs = init.retryAfterMs;
    this.requestSent = init.requestSent;
    this.errors = init.errors;
    this.runflowMessage = init.runflowMessage;
  }
}

const KINDS: ReadonlySet<unknown> = new Set(['retryable', 'ambiguous', 'permanent']);

/** True for a RunflowApiError, including one from another copy of this module (duplicate installs). */
export function isRunflowApiError(e: unknown): e is RunflowApiError {
  if (e instanceof RunflowApiError) return true;
  return (
    e instanceof Error &&
    e.name === 'RunflowApiError' &&
    KINDS.has((e as { kind?: unknown }).kind) &&
    typeof (e as { code?: unknown }).code === 'string'
  );
}
