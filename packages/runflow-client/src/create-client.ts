import { performance } from 'node:perf_hooks';
import { getModel, isModelId, type ModelId, Run } from '@runflow-queue/shared';
import { Pool } from 'undici';
import {
  classifyInvalidSuccess,
  classifyResponse,
  classifyTransportFailure,
  invalidRequest,
  parseJson,
  type Redact,
} from './classify-error.ts';
import {
  MAX_RESPONSE_BYTES,
  parseBaseUrl,
  type RequestInfo,
  type RunflowClientOptions,
  resolveOptions,
} from './client-options.ts';
import type { RunflowApiError, RunflowEndpoint } from './runflow-api-error.ts';
import { sendRequest, TransportFailure } from './send-request.ts';

/** The create-run request body (§2.1 / §9.3 of the API notes). */
export interface CreateRunBody {
  input: Record<string, unknown>;
  callback_url?: string | null;
  metadata?: Record<string, unknown> | null;
  client_ref?: string;
}

export interface CreateRunOptions {
  /** Sent as `Idempotency-Key`. Runflow documents it for batches only; harmless elsewhere. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface GetRunOptions {
  signal?: AbortSignal;
}

export interface RunflowClient {
  /** POSTs once, never re-sends. Rejects with a RunflowApiError; `kind: 'ambiguous'` means the run may exist. */
  createRun(model: ModelId, body: CreateRunBody, options?: CreateRunOptions): Promise<Run>;
  /** Rejects with a RunflowApiError (`permanent` for 404 RUN_NOT_FOUND). */
  getRun(runId: string, options?: GetRunOptions): Promise<Run>;
  /**
   * `GET /v1/runs?q=client_ref:<ref>`: the runs created with this client_ref, newest first. Runflow
   * documents `q` but not that client_ref can be filtered on: a Runflow that cannot answers 4xx (a
   * `permanent` error), and items whose client_ref differs (a filter ignored) are dropped here.
   */
  findRunsByClientRef(clientRef: string, options?: GetRunOptions): Promise<Run[]>;
  /**
   * One page of `GET /v1/runs?q=created_at>=<from> AND created_at<<to>&sort_by=created_at:asc`: the runs
   * created in [from, to), oldest first; `next` is the cursor of the following page (null: the last).
   */
  listRuns(window: RunListWindow, options?: GetRunOptions): Promise<RunPage>;
  /** `GET /v1/billing/balance`: the prepaid balance in whole cents (runflow-api.md §2.9). */
  getBalance(options?: GetRunOptions): Promise<Balance>;
  /** `GET /v1/health` (runflow-api.md §5: what to check on a 503): resolves when Runflow answers 2xx. */
  checkHealth(options?: GetRunOptions): Promise<void>;
  /** Waits for in-flight requests, then closes every socket. Later calls fail retryable CLIENT_CLOSED. */
  close(): Promise<void>;
}

/** `{balance_cents, currency}` of GET /v1/billing/balance. */
export interface Balance {
  balanceCents: number;
  currency: string;
}

export interface RunListWindow {
  createdFromMs: number;
  createdToMs: number;
  /** 1–500 (default 500). */
  limit?: number;
  /** The previous page's `next`. */
  cursor?: string | null;
}

export interface RunPage {
  runs: Run[];
  next: string | null;
}

/** `{items, next}` (or `next_pq`, runflow-api.md §2.3 conflict): a page and its cursor. */
function parseListPage(value: unknown): ParseResult<RunPage> {
  const page = parseRunPage(value);
  if (!page.success) return page;
  const raw = value as { next?: unknown; next_pq?: unknown };
  const next = typeof raw.next === 'string' ? raw.next : typeof raw.next_pq === 'string' ? raw.next_pq : null;
  return { success: true, data: { runs: page.data, next: next || null } };
}

function parseBalance(value: unknown): ParseResult<Balance> {
  const raw = value as { balance_cents?: unknown; currency?: unknown } | null;
  if (!raw || typeof raw.balance_cents !== 'number' || !Number.isInteger(raw.balance_cents))
    return { success: false, error: { issues: [{ path: ['balance_cents'], message: 'not an integer' }] } };
  return {
    success: true,
    data: { balanceCents: raw.balance_cents, currency: typeof raw.currency === 'string' ? raw.currency : 'USD' },
  };
}

type ParseResult<T> =
  | { success: true; data: T }
  | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };

/** `{items: [...]}` (runflow-api.md §2.3): the run objects of a search page; malformed items are skipped. */
function parseRunPage(value: unknown): ParseResult<Run[]> {
  const items = (value as { items?: unknown } | null)?.items;
  if (!Array.isArray(items))
    return { success: false, error: { issues: [{ path: ['items'], message: 'not an array' }] } };
  return {
    success: true,
    data: items.flatMap((item) => {
      const run = Run.safeParse(item);
      return run.success ? [run.data] : [];
    }),
  };
}

/** Any JSON body will do: a 2xx is the answer. */
const parseAnything = (): ParseResult<undefined> => ({ success: true, data: undefined });

interface Attempt {
  endpoint: RunflowEndpoint;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal | undefined;
}

function describeIssues(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/**
 * An undici client for the two Runflow endpoints the workers use. One keep-alive Pool per client (one origin,
 * HTTP/1.1, pipelining 1); no retries inside — every failure is a classified RunflowApiError and the caller
 * decides. See classify-error.ts for the rules.
 */
export function createRunflowClient(options: RunflowClientOptions): RunflowClient {
  const { origin, pathPrefix } = parseBaseUrl(options.baseUrl);
  const resolved = resolveOptions(options);
  const { apiKey, logger, onRequest } = options;

  const pool = new Pool(origin, {
    connections: resolved.connections,
    pipelining: 1,
    connectTimeout: resolved.connectTimeoutMs,
    headersTimeout: resolved.headersTimeoutMs,
    bodyTimeout: resolved.bodyTimeoutMs,
    keepAliveTimeout: resolved.keepAliveTimeoutMs,
    keepAliveMaxTimeout: Math.max(resolved.keepAliveTimeoutMs, 600_000),
    maxResponseSize: MAX_RESPONSE_BYTES,
    // HTTP/1.1 only: the pool size, pipelining and the sent/unsent rule in classify-error.ts are reasoned
    // about for HTTP/1.1 sockets, and 64 keep-alive connections need no multiplexing.
    allowH2: false,
  });

  // The key only ever goes into the Authorization header; anything that echoes it back is scrubbed.
  const redact: Redact = (text) => (text.includes(apiKey) ? text.split(apiKey).join('[redacted]') : text);

  const commonHeaders: Record<string, string> = {
    authorization: `Bearer ${apiKey}`,
    accept: 'application/json',
    'user-agent': resolved.userAgent,
  };

  function report(attempt: Attempt, info: RequestInfo, error: RunflowApiError | undefined): void {
    const fields = {
      endpoint: attempt.endpoint,
      method: attempt.method,
      path: attempt.path,
      status: info.status,
      outcome: info.outcome,
      durationMs: info.durationMs,
      ...(error
        ? { code: error.code, requestSent: error.requestSent, retryAfterMs: error.retryAfterMs, error: error.message }
        : {}),
    };
    if (info.outcome === 'ok' || info.outcome === 'retryable') logger?.debug(fields, 'runflow request');
    else logger?.warn(fields, 'runflow request');
    if (!onRequest) return;
    try {
      onRequest(info);
    } catch (hookError) {
      logger?.warn(
        { endpoint: attempt.endpoint, error: redact(String((hookError as Error)?.message ?? hookError)) },
        'runflow-client onRequest hook threw',
      );
    }
  }

  async function perform<T>(
    attempt: Attempt,
    parse: (value: unknown) => ParseResult<T>,
  ): Promise<{ value: T; status: number } | { error: RunflowApiError }> {
    const ctx = { endpoint: attempt.endpoint, method: attempt.method, path: attempt.path, redact };
    let response: Awaited<ReturnType<typeof sendRequest>>;
    try {
      response = await sendRequest(pool, attempt);
    } catch (failure) {
      if (failure instanceof TransportFailure) {
        return {
          error: classifyTransportFailure({
            ...ctx,
            error: failure.cause,
            requestSent: failure.requestSent,
            status: failure.status,
            aborted: failure.aborted,
          }),
        };
      }
      // Not expected; count it as sent so a POST is never assumed safe to repeat.
      return {
        error: classifyTransportFailure({
          ...ctx,
          error: failure,
          requestSent: true,
          status: undefined,
          aborted: false,
        }),
      };
    }

    const bodyText = response.body.toString('utf8');
    if (response.status < 200 || response.status > 299) {
      return { error: classifyResponse({ ...ctx, status: response.status, headers: response.headers, bodyText }) };
    }
    const json = parseJson(bodyText);
    if (!json.ok) {
      const reason = bodyText.trim() === '' ? 'the body is empty' : 'the body is not JSON';
      return { error: classifyInvalidSuccess({ ...ctx, status: response.status, reason }) };
    }
    const parsed = parse(json.value);
    if (!parsed.success) {
      const what =
        attempt.endpoint === 'findRuns' || attempt.endpoint === 'listRuns'
          ? 'a page of runs'
          : attempt.endpoint === 'getBalance'
            ? 'a balance'
            : 'a run object';
      const reason = `the body is not ${what} (${describeIssues(parsed.error)})`;
      return { error: classifyInvalidSuccess({ ...ctx, status: response.status, reason }) };
    }
    return { value: parsed.data, status: response.status };
  }

  async function execute<T = Run>(
    attempt: Attempt,
    parse: (value: unknown) => ParseResult<T> = Run.safeParse as (value: unknown) => ParseResult<T>,
  ): Promise<T> {
    const startedAt = performance.now();
    const result = await perform(attempt, parse);
    const durationMs = Math.round((performance.now() - startedAt) * 10) / 10;
    if ('value' in result) {
      report(attempt, { endpoint: attempt.endpoint, status: result.status, outcome: 'ok', durationMs }, undefined);
      return result.value;
    }
    const { error } = result;
    report(
      attempt,
      { endpoint: attempt.endpoint, status: error.status, outcome: error.kind, durationMs, code: error.code },
      error,
    );
    throw error;
  }

  /** Argument errors are classified like everything else (permanent, nothing sent) and reported too. */
  function rejectInvalid(attempt: Attempt, reason: string, cause?: unknown): Promise<never> {
    const error = invalidRequest({
      endpoint: attempt.endpoint,
      method: attempt.method,
      path: attempt.path,
      redact,
      reason,
      cause,
    });
    report(
      attempt,
      { endpoint: attempt.endpoint, status: undefined, outcome: 'permanent', durationMs: 0, code: error.code },
      error,
    );
    return Promise.reject(error);
  }

  let closing: Promise<void> | undefined;

  return {
    createRun(model, body, runOptions = {}) {
      const known = isModelId(model);
      const attempt: Attempt = {
        endpoint: 'createRun',
        method: 'POST',
        path: `${pathPrefix}${known ? getModel(model).endpointPath : '/v1/models/(unknown)/runs'}`,
        headers: { ...commonHeaders, 'content-type': 'application/json' },
        signal: runOptions.signal,
      };
      if (!known) return rejectInvalid(attempt, `unknown model ${JSON.stringify(model)}`);
      if (runOptions.idempotencyKey !== undefined) attempt.headers['idempotency-key'] = runOptions.idempotencyKey;
      try {
        attempt.body = JSON.stringify(body);
      } catch (cause) {
        return rejectInvalid(attempt, `the body cannot be serialised as JSON: ${(cause as Error).message}`, cause);
      }
      return execute(attempt);
    },

    getRun(runId, runOptions = {}) {
      const attempt: Attempt = {
        endpoint: 'getRun',
        method: 'GET',
        path: `${pathPrefix}/v1/runs/${encodeURIComponent(runId)}`,
        headers: commonHeaders,
        signal: runOptions.signal,
      };
      // An empty id would hit the list endpoint (GET /v1/runs/) and fail confusingly forever.
      if (typeof runId !== 'string' || runId === '') return rejectInvalid(attempt, 'runId must be a non-empty string');
      return execute(attempt);
    },

    findRunsByClientRef(clientRef, runOptions = {}) {
      const q = encodeURIComponent(`client_ref:${clientRef}`);
      const attempt: Attempt = {
        endpoint: 'findRuns',
        method: 'GET',
        path: `${pathPrefix}/v1/runs?q=${q}&limit=20`,
        headers: commonHeaders,
        signal: runOptions.signal,
      };
      if (typeof clientRef !== 'string' || !/^[\w.:-]{1,255}$/.test(clientRef)) {
        return rejectInvalid(attempt, 'clientRef must be 1–255 word characters, dots, colons or dashes');
      }
      return execute(attempt, parseRunPage).then((runs) => runs.filter((run) => run.client_ref === clientRef));
    },

    listRuns(window, runOptions = {}) {
      const q = `created_at>=${new Date(window.createdFromMs).toISOString()} AND created_at<${new Date(window.createdToMs).toISOString()}`;
      const limit = Math.min(500, Math.max(1, window.limit ?? 500));
      const cursor = window.cursor ? `&pq=${encodeURIComponent(window.cursor)}` : '';
      const attempt: Attempt = {
        endpoint: 'listRuns',
        method: 'GET',
        path: `${pathPrefix}/v1/runs?q=${encodeURIComponent(q)}&sort_by=created_at:asc&limit=${limit}${cursor}`,
        headers: commonHeaders,
        signal: runOptions.signal,
      };
      if (!(window.createdFromMs <= window.createdToMs)) {
        return rejectInvalid(attempt, 'createdFromMs must not be after createdToMs');
      }
      return execute(attempt, parseListPage);
    },

    getBalance(runOptions = {}) {
      const attempt: Attempt = {
        endpoint: 'getBalance',
        method: 'GET',
        path: `${pathPrefix}/v1/billing/balance`,
        headers: commonHeaders,
        signal: runOptions.signal,
      };
      return execute(attempt, parseBalance);
    },

    async checkHealth(runOptions = {}) {
      await execute(
        {
          endpoint: 'health',
          method: 'GET',
          path: `${pathPrefix}/v1/health`,
          headers: commonHeaders,
          signal: runOptions.signal,
        },
        parseAnything,
      );
    },

    close() {
      closing ??= pool.close();
      return closing;
    },
  };
}
