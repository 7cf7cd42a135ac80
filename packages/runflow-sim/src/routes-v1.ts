import type { IncomingMessage, ServerResponse } from 'node:http';
import { rollFault, sendInjectedRateLimit, sendInjectedServerError } from './faults.ts';
import { isPlainObject, readRequestJson, safeDecode, sendError, sendJson } from './http-io.ts';
import { handleCreateRun } from './routes-create-run.ts';
import { toRunObject } from './run-object.ts';
import type { SimContext } from './sim-context.ts';

// The public API under /v1, in the order Runflow checks things: route → auth (401) → account rate
// limit (429) → the endpoint (injected faults first, then the request itself).

type V1Route =
  | { kind: 'health' }
  | { kind: 'create'; modelSegments: string[] }
  | { kind: 'get'; runId: string }
  | { kind: 'search' }
  | { kind: 'cancel'; runId: string }
  | { kind: 'balance' }
  | { kind: 'unknown' };

const ALLOWED_METHOD: Record<Exclude<V1Route['kind'], 'unknown'>, string> = {
  health: 'GET',
  create: 'POST',
  get: 'GET',
  search: 'GET',
  cancel: 'POST',
  balance: 'GET',
};

export function matchV1Route(pathname: string): V1Route {
  const segments = pathname.split('/').slice(1).map(safeDecode);
  if (segments.some((segment) => segment === '')) return { kind: 'unknown' };
  if (segments[0] !== 'v1') return { kind: 'unknown' };
  const rest = segments.slice(1);
  if (rest.length === 1 && rest[0] === 'health') return { kind: 'health' };
  if (rest.length >= 3 && rest[0] === 'models' && rest[rest.length - 1] === 'runs') {
    return { kind: 'create', modelSegments: rest.slice(1, -1) };
  }
  if (rest.length === 2 && rest[0] === 'runs') return { kind: 'get', runId: rest[1] };
  if (rest.length === 1 && rest[0] === 'runs') return { kind: 'search' };
  if (rest.length === 2 && rest[0] === 'billing' && rest[1] === 'balance') return { kind: 'balance' };
  if (rest.length === 4 && rest[0] === 'admin' && rest[1] === 'runs' && rest[3] === 'cancellation') {
    return { kind: 'cancel', runId: rest[2] };
  }
  return { kind: 'unknown' };
}

/**
 * Counts a create, get or search (and records when it arrived: what a rate-limit check counts),
 * answered or not. During an outage (`everyRequest`) health and balance requests are recorded too:
 * what a client sends to a dead API is what a chaos check counts. Returns the route.
 */
export function recordMetered(ctx: SimContext, method: string, pathname: string, everyRequest = false): V1Route {
  const route = matchV1Route(pathname);
  if (route.kind === 'create' && method === 'POST') ctx.counters.createRequests += 1;
  if (route.kind === 'get' && method === 'GET') ctx.counters.getRequests += 1;
  if (route.kind === 'search' && method === 'GET') ctx.counters.searchRequests += 1;
  if (
    everyRequest ||
    (route.kind === 'create' && method === 'POST') ||
    ((route.kind === 'get' || route.kind === 'search') && method === 'GET')
  ) {
    ctx.requestLog.record(Date.now());
  }
  return route;
}

export async function handleV1(
  ctx: SimContext,
  request: IncomingMessage,
  response: ServerResponse,
  pathname: string,
): Promise<void> {
  const route = recordMetered(ctx, request.method ?? 'GET', pathname);
  const method = request.method ?? 'GET';

  // Health is public and not metered: it is what a client checks when everything else fails.
  if (route.kind === 'health') {
    if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(response, 'GET');
    return sendJson(response, 200, { ok: true });
  }

  if (!isAuthorized(ctx, request.headers.authorization)) {
    return sendError(response, 401, 'UNAUTHORIZED', 'Missing or invalid API key: send Authorization: Bearer <key>');
  }
  if (!takeRateLimitToken(ctx, response)) return;

  if (route.kind === 'unknown') return sendError(response, 404, 'NOT_FOUND', `No route for ${method} ${pathname}`);
  if (method !== ALLOWED_METHOD[route.kind]) return methodNotAllowed(response, ALLOWED_METHOD[route.kind]);

  if (route.kind === 'create') return handleCreateRun(ctx, request, response, route.modelSegments);
  if (route.kind === 'get') return handleGetRun(ctx, response, route.runId);
  if (route.kind === 'search') return handleSearchRuns(ctx, request, response);
  if (route.kind === 'balance') return handleBalance(ctx, response);
  return handleCancelRun(ctx, request, response, route.runId);
}

function handleGetRun(ctx: SimContext, response: ServerResponse, runId: string): void {
  const { faults } = ctx.config;
  const run = ctx.store.get(runId);
  if (rollFault(faults, 'getServerError', ctx.counters)) sendInjectedServerError(response);
  else if (rollFault(faults, 'getRateLimited', ctx.counters)) sendInjectedRateLimit(ctx, response);
  else if (!run) sendError(response, 404, 'RUN_NOT_FOUND', `Run ${runId} not found`);
  else sendJson(response, 200, toRunObject(run));
}

/**
 * GET /v1/billing/balance (runflow-api.md §2.9): `{balance_cents, currency}`. Whole cents, rounded down,
 * as the account sees it; an account without a balance limit answers a large fixed balance. Injected
 * GET faults apply: it is a GET like any other.
 */
function handleBalance(ctx: SimContext, response: ServerResponse): void {
  const { faults } = ctx.config;
  ctx.counters.balanceRequests += 1;
  const micro = ctx.billing.balanceMicroUsd ?? UNLIMITED_BALANCE_MICRO_USD;
  if (rollFault(faults, 'getServerError', ctx.counters)) sendInjectedServerError(response);
  else if (rollFault(faults, 'getRateLimited', ctx.counters)) sendInjectedRateLimit(ctx, response);
  else sendJson(response, 200, { balance_cents: Math.floor(micro / 10_000), currency: 'USD' });
}

/** What an account without a balance limit reports: $1,000,000. */
const UNLIMITED_BALANCE_MICRO_USD = 1_000_000 * 1_000_000;

/** `client_ref:<ref>` or `client_ref=<ref>`. */
const CLIENT_REF_FILTER = /^client_ref\s*[:=]\s*"?([^"\s]+)"?$/;
/** `created_at>=<ISO>` (also `>`, `<`, `<=`): a window of creation times. */
const CREATED_AT_FILTER = /^created_at\s*(>=|<=|>|<)\s*"?([^"\s]+)"?$/;

interface RunFilter {
  clientRef?: string;
  created: { op: string; ms: number }[];
}

/** The `q` terms the simulator understands, joined by AND; undefined for anything else. */
function parseRunFilter(q: string): RunFilter | undefined {
  const filter: RunFilter = { created: [] };
  for (const term of q.split(/\s+AND\s+/)) {
    const ref = CLIENT_REF_FILTER.exec(term.trim());
    const created = CREATED_AT_FILTER.exec(term.trim());
    if (ref) filter.clientRef = ref[1];
    else if (created && Number.isFinite(Date.parse(created[2]))) {
      filter.created.push({ op: created[1], ms: Date.parse(created[2]) });
    } else return undefined;
  }
  return filter;
}

function matchesCreated(ms: number, terms: RunFilter['created']): boolean {
  return terms.every(({ op, ms: at }) =>
    op === '>=' ? ms >= at : op === '>' ? ms > at : op === '<=' ? ms <= at : ms < at,
  );
}

/**
 * GET /v1/runs (runflow-api.md §2.3): `q` with `client_ref:<ref>` (undocumented on Runflow: `runSearch:
 * false` refuses it with 422) and/or `created_at` bounds, joined by AND; `sort_by=created_at:asc|desc`
 * (default desc), `limit` 1–500, and the `pq` cursor the previous page's `next` gave. Any other
 * expression is refused. Answers `{items, first, next, previous}`; `next` is null on the last page.
 */
function handleSearchRuns(ctx: SimContext, request: IncomingMessage, response: ServerResponse): void {
  const { faults } = ctx.config;
  if (rollFault(faults, 'getServerError', ctx.counters)) {
    sendInjectedServerError(response);
    return;
  }
  if (rollFault(faults, 'getRateLimited', ctx.counters)) {
    sendInjectedRateLimit(ctx, response);
    return;
  }
  const params = new URL(request.url ?? '/', 'http://sim').searchParams;
  const q = params.get('q')?.trim();
  const limit = Math.min(500, Math.max(1, Number(params.get('limit') ?? 50) || 50));
  const filter = q ? parseRunFilter(q) : { created: [] };
  if (!filter || (filter.clientRef !== undefined && !ctx.config.runSearch)) {
    sendError(response, 422, 'VALIDATION_ERROR', `Unsupported filter: ${q}`, [
      { loc: ['q'], msg: 'unsupported filter expression', type: 'value_error' },
    ]);
    return;
  }
  const ascending = params.get('sort_by') === 'created_at:asc';
  const order = (a: { createdAtMs: number; id: string }, b: { createdAtMs: number; id: string }) =>
    (a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) * (ascending ? 1 : -1);
  const cursor = decodeCursor(params.get('pq'));
  const runs = [...ctx.store.all()].filter(
    (run) =>
      (filter.clientRef === undefined || run.clientRef === filter.clientRef) &&
      matchesCreated(run.createdAtMs, filter.created) &&
      (cursor === undefined || order(run, cursor) > 0),
  );
  runs.sort(order);
  const items = runs.slice(0, limit);
  if (filter.clientRef !== undefined) for (const run of items) run.foundBySearch += 1;
  const last = items.at(-1);
  const next = runs.length > limit && last ? encodeCursor(last) : null;
  sendJson(response, 200, { items: items.map(toRunObject), first: null, next, previous: null });
}

function encodeCursor(run: { createdAtMs: number; id: string }): string {
  return Buffer.from(`${run.createdAtMs}:${run.id}`).toString('base64url');
}

function decodeCursor(pq: string | null): { createdAtMs: number; id: string } | undefined {
  if (!pq) return undefined;
  const [ms, id] = Buffer.from(pq, 'base64url').toString().split(':');
  return Number.isFinite(Number(ms)) && id ? { createdAtMs: Number(ms), id } : undefined;
}

/** Admin cancellation (runflow-api.md §2.5): 201 when it cancelled, 200 with the run unchanged when terminal. */
async function handleCancelRun(
  ctx: SimContext,
  request: IncomingMessage,
  response: ServerResponse,
  runId: string,
): Promise<void> {
  const body = await readRequestJson(request, response);
  if (body === undefined) return;
  const reason = isPlainObject(body.value) ? body.value.reason : undefined;
  if (
    (body.value !== null && !isPlainObject(body.value)) ||
    (reason != null && (typeof reason !== 'string' || reason.length < 3 || reason.length > 500))
  ) {
    return sendError(response, 422, 'VALIDATION_ERROR', 'reason must be a string of 3 to 500 characters', [
      { loc: ['reason'], msg: 'String should have 3 to 500 characters', type: 'string_length' },
    ]);
  }
  const run = ctx.store.get(runId);
  if (!run) return sendError(response, 404, 'RUN_NOT_FOUND', `Run ${runId} not found`);
  const cancelled = ctx.lifecycle.cancel(run);
  sendJson(response, cancelled ? 201 : 200, toRunObject(run));
}

export function isAuthorized(ctx: SimContext, header: string | undefined): boolean {
  if (!header) return false;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match !== null && ctx.config.apiKeys.includes(match[1]);
}

/** False (after answering 429) when the account is over its rate. */
function takeRateLimitToken(ctx: SimContext, response: ServerResponse): boolean {
  const bucket = ctx.rateLimiter;
  if (!bucket) return true;
  const taken = bucket.take();
  if (ctx.config.retryAfter) {
    // Version A of the rate-limit docs: every response carries the X-RateLimit-* trio.
    response.setHeader('x-ratelimit-limit', String(bucket.burst));
    response.setHeader('x-ratelimit-remaining', String(bucket.remaining()));
    response.setHeader('x-ratelimit-reset', String(Math.ceil(Date.now() / 1000) + 1));
  }
  if (taken.ok) return true;
  ctx.counters.rateLimited += 1;
  const headers = ctx.config.retryAfter
    ? { 'retry-after': String(Math.max(1, Math.ceil(taken.retryAfterMs / 1000))) }
    : {};
  sendError(
    response,
    429,
    'RATE_LIMITED',
    `Rate limit exceeded: ${bucket.ratePerSecond} requests per second`,
    null,
    headers,
  );
  return false;
}

function methodNotAllowed(response: ServerResponse, allowed: string): void {
  sendError(response, 405, 'METHOD_NOT_ALLOWED', `Method not allowed; use ${allowed}`, null, { allow: allowed });
}
