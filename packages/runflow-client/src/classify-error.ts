import { parseErrorEnvelope } from '@runflow-queue/shared';
import { parseRetryAfterMs } from './retry-after.ts';
import { RunflowApiError, type RunflowEndpoint, type RunflowErrorKind } from './runflow-api-error.ts';

// Turns every way a Runflow call can fail into a RunflowApiError with a kind the worker acts on.
//
// HTTP responses:
//   429            → retryable (code from body, else RATE_LIMITED; retryAfterMs from Retry-After)
//   5xx, 408       → retryable (code from body, else SERVER_ERROR)
//   other non-2xx  → permanent (Runflow's code/message/errors, else HTTP_<status>)
//   2xx, not a run → createRun ambiguous / getRun retryable (INVALID_RESPONSE)
//
// Transport failures — the rule that decides "was the request sent?":
//   requestSent is true once undici called the handler's onRequestStart, which its HTTP/1.1 client does on a
//   connected socket right before writing the request. Connect-phase failures (ECONNREFUSED, ENOTFOUND,
//   EAI_AGAIN, UND_ERR_CONNECT_TIMEOUT, TLS handshake errors) fail the request while it is still pending,
//   before that call, so they are provably unsent → retryable. Everything after it (UND_ERR_HEADERS_TIMEOUT,
//   UND_ERR_BODY_TIMEOUT, UND_ERR_SOCKET "other side closed", ECONNRESET, EPIPE, an abort) may have reached
//   Runflow → createRun ambiguous, getRun retryable (a read is safe to repeat).
//   A reused keep-alive socket that the server had already closed fails the same way *after* the write
//   (ECONNRESET/EPIPE/"other side closed"), and we cannot tell whether the bytes were read, so it counts as
//   sent: ambiguous for a POST. (undici checks idle sockets for a pending FIN before reuse, which makes this
//   rare, and honours the server's Keep-Alive timeout hint; it cannot rule out a FIN that is still in flight.)
//   We decide on the handler's state, not on error codes alone, because the same code (ECONNRESET) can come
//   from either phase; the code only picks the label.

export type Redact = (text: string) => string;

interface RequestContext {
  endpoint: RunflowEndpoint;
  method: string;
  path: string;
  redact: Redact;
}

const MAX_SNIPPET_CHARS = 200;

function nextStep(kind: RunflowErrorKind, retryAfterMs?: number): string {
  if (kind === 'retryable') {
    return retryAfterMs === undefined
      ? 'retryable: will back off'
      : `retryable: will back off (Retry-After ${retryAfterMs} ms)`;
  }
  if (kind === 'ambiguous') {
    return 'ambiguous: the run may have been created (and billed); resolve it before creating another';
  }
  return 'permanent: will not retry';
}

function describe(ctx: RequestContext): string {
  return `Runflow ${ctx.endpoint} (${ctx.method} ${ctx.path})`;
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_SNIPPET_CHARS ? `${flat.slice(0, MAX_SNIPPET_CHARS - 3)}...` : flat;
}

/** `{ok:true,value}` for JSON, `{ok:false}` otherwise; never throws. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export interface ResponseContext extends RequestContext {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bodyText: string;
  nowMs?: number;
}

/** Classifies a non-2xx response. */
export function classifyResponse(ctx: ResponseContext): RunflowApiError {
  const { status } = ctx;
  const json = parseJson(ctx.bodyText);
  const envelope = json.ok
    ? parseErrorEnvelope(json.value)
    : { code: undefined, message: undefined, errors: undefined };

  let kind: RunflowErrorKind;
  let code: string;
  let retryAfterMs: number | undefined;
  if (status === 429) {
    kind = 'retryable';
    code = envelope.code ?? 'RATE_LIMITED';
    retryAfterMs = parseRetryAfterMs(header(ctx.headers, 'retry-after'), ctx.nowMs);
  } else if (status >= 500 || status === 408) {
    kind = 'retryable';
    code = envelope.code ?? 'SERVER_ERROR';
    // RFC 9110 allows Retry-After on 503 as well; honour it on any retryable status.
    retryAfterMs = parseRetryAfterMs(header(ctx.headers, 'retry-after'), ctx.nowMs);
  } else {
    kind = 'permanent';
    code = envelope.code ?? `HTTP_${status}`;
  }

  const runflowMessage = envelope.message === undefined ? undefined : ctx.redact(envelope.message);
  const detail =
    runflowMessage ?? (json.ok || ctx.bodyText.trim() === '' ? undefined : ctx.redact(snippet(ctx.bodyText)));
  const message = `${describe(ctx)} → HTTP ${status} ${code}${detail ? `: ${detail}` : ''} — ${nextStep(kind, retryAfterMs)}`;

  return new RunflowApiError(message, {
    kind,
    endpoint: ctx.endpoint,
    status,
    code,
    retryAfterMs,
    requestSent: true,
    errors: envelope.errors,
    runflowMessage,
  });
}

/** A 2xx whose body is not a run: a create may have succeeded, so it is ambiguous; a read can be repeated. */
export function classifyInvalidSuccess(ctx: RequestContext & { status: number; reason: string }): RunflowApiError {
  const kind: RunflowErrorKind = ctx.endpoint === 'createRun' ? 'ambiguous' : 'retryable';
  const message = `${describe(ctx)} → HTTP ${ctx.status} but ${ctx.redact(ctx.reason)} — ${nextStep(kind)}`;
  return new RunflowApiError(message, {
    kind,
    endpoint: ctx.endpoint,
    status: ctx.status,
    code: 'INVALID_RESPONSE',
    requestSent: true,
  });
}

/** The request could not be built (bad argument); nothing was sent and the same call fails again. */
export function invalidRequest(ctx: RequestContext & { reason: string; cause?: unknown }): RunflowApiError {
  return new RunflowApiError(`${describe(ctx)} was not sent: ${ctx.redact(ctx.reason)} — ${nextStep('permanent')}`, {
    kind: 'permanent',
    endpoint: ctx.endpoint,
    status: undefined,
    code: 'INVALID_REQUEST',
    requestSent: false,
    cause: ctx.cause,
  });
}

/** The `code` of a Node/undici error, looking inside an AggregateError (happy-eyeballs connects). */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const innerCode = errorCode(inner);
      if (innerCode) return innerCode;
    }
  }
  return undefined;
}

function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') {
    return error.errors.map((inner) => errorText(inner)).join('; ');
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

const TIMEOUT_CODES: ReadonlySet<string> = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const RESET_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_SOCKET',
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_INFO',
]);
const MALFORMED_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_HEADERS_OVERFLOW',
]);

function isTimeoutReason(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}

function labelBeforeSend(error: unknown, aborted: boolean): string {
  if (aborted) return 'ABORTED';
  const code = errorCode(error);
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'CONNECT_TIMEOUT';
  if (code === 'UND_ERR_CLOSED' || code === 'UND_ERR_DESTROYED') return 'CLIENT_CLOSED';
  return 'NETWORK_ERROR';
}

function labelAfterSend(error: unknown, aborted: boolean): string {
  if (aborted) return isTimeoutReason(error) ? 'TIMEOUT' : 'ABORTED';
  const code = errorCode(error) ?? '';
  if (TIMEOUT_CODES.has(code)) return 'TIMEOUT';
  if (RESET_CODES.has(code)) return 'CONNECTION_RESET';
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return 'RESPONSE_TOO_LARGE';
  if (code.startsWith('HPE_') || MALFORMED_CODES.has(code)) return 'INVALID_RESPONSE';
  return 'NETWORK_ERROR';
}

export interface TransportContext extends RequestContext {
  error: unknown;
  requestSent: boolean;
  status: number | undefined;
  aborted: boolean;
}

/** Classifies a failure where no complete response arrived; see the rule at the top of this file. */
export function classifyTransportFailure(ctx: TransportContext): RunflowApiError {
  const underlying = errorCode(ctx.error);
  if (!ctx.requestSent && underlying === 'UND_ERR_INVALID_ARG') {
    return invalidRequest({ ...ctx, reason: errorText(ctx.error), cause: ctx.error });
  }

  const code = ctx.requestSent ? labelAfterSend(ctx.error, ctx.aborted) : labelBeforeSend(ctx.error, ctx.aborted);
  const kind: RunflowErrorKind = ctx.requestSent && ctx.endpoint === 'createRun' ? 'ambiguous' : 'retryable';
  const phase = ctx.requestSent
    ? ctx.status === undefined
      ? 'after the request was sent, before a response'
      : `after response headers (HTTP ${ctx.status}), while reading the body`
    : 'before the request was sent';
  const cause = `${errorText(ctx.error)}${underlying && !errorText(ctx.error).includes(underlying) ? ` [${underlying}]` : ''}`;
  const message = `${describe(ctx)} failed ${phase}: ${code}: ${ctx.redact(cause)} — ${nextStep(kind)}`;

  return new RunflowApiError(message, {
    kind,
    endpoint: ctx.endpoint,
    status: ctx.status,
    code,
    requestSent: ctx.requestSent,
    cause: ctx.error,
  });
}
