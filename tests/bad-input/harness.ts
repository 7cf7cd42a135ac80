import { CALLBACK_PATH } from '@runflow-queue/callback-ingest';
import { createProducer, type EditProducer } from '@runflow-queue/producer';
import { signBody } from '@runflow-queue/runflow-sim';
import { type AppProcess, spawnApp } from '@runflow-queue/runtime';
import { RunflowQueueError } from '@runflow-queue/shared';
import { bullPrefix, createRedis, type RedisClient } from '@runflow-queue/store';
import { freePort, uniquePrefix } from '@runflow-queue/testkit';
import { waitFor } from '../support/fleet.ts';

// The harness of the bad-input catalogue: the four surfaces (the producer in this process, the HTTP
// API, callback-ingest and the dashboard as real processes), helpers that turn each response into
// {status, code}, and the Redis key count a rejected request must not change.

export const SECRET = 'whsec_bad_input_secret_0123';
/** The API's caller `catalog`; OTHER_TOKEN is caller `search`, ADMIN_TOKEN an admin. */
export const TOKEN = 'svc_bad_input_token_0123456789';
export const OTHER_TOKEN = 'svc_bad_input_other_0123456789';
export const ADMIN_TOKEN = 'svc_bad_input_admin_0123456789';
export const VIEWER = { user: 'viewer', password: 'viewer-password-123' };
export const OPERATOR = { user: 'operator', password: 'operator-password-456' };
export const VIEWER_TOKEN = 'dash_viewer_token_0123456789';
export const BODY_LIMIT = 1024 * 1024;
export const prefix = uniquePrefix('badinput');

let redis: RedisClient;
let producer: EditProducer;
let api: AppProcess;
let ingest: AppProcess;
let dashboard: AppProcess;
let apiUrl: string;
let ingestUrl: string;
let dashboardUrl: string;
let counter = 0;

export type Surface = 'producer' | 'api' | 'ingest' | 'dashboard';
export interface Outcome {
  status: number;
  code: string | undefined;
}
export interface BadCase {
  surface: Surface;
  name: string;
  code: string;
  status: number;
  /** Keys under the prefix the case may add (a replay or an accepted twin); default none. */
  keysAdded?: number;
  /** Runs before the keys are counted: what the case needs to exist first. */
  prepare?: () => Promise<void>;
  send: () => Promise<Outcome>;
  /** Runs after: what the case must have left (or not left) in Redis. */
  verify?: () => Promise<void>;
}

export const IMAGE = 'https://cdn.example.com/in.png';
export const pro = (input: Record<string, unknown> = {}) => ({
  model: 'google/nano-banana-pro/edit',
  input: { prompt: 'make it blue', image_urls: [IMAGE], ...input },
});

/** The producer of this process (for cases that prepare or inspect jobs). */
export const theProducer = () => producer;

/** Calls the producer the way a service would; a rejection becomes its code and status. */
export async function enqueue(request: unknown, queue = 'edits', options = {}): Promise<Outcome> {
  try {
    // biome-ignore lint/suspicious/noExplicitAny: the catalogue sends what the types forbid
    await producer.enqueueEdit(queue, request as any, options);
    return { status: 202, code: undefined };
  } catch (error) {
    if (!(error instanceof RunflowQueueError)) throw error;
    return { status: error.status, code: error.code };
  }
}

export async function enqueueMany(requests: unknown[]): Promise<Outcome> {
  try {
    // biome-ignore lint/suspicious/noExplicitAny: the catalogue sends what the types forbid
    await producer.enqueueEdits('edits', requests as any);
    return { status: 202, code: undefined };
  } catch (error) {
    if (!(error instanceof RunflowQueueError)) throw error;
    return { status: error.status, code: error.code };
  }
}

export async function http(url: string, init: RequestInit): Promise<Outcome> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: { code?: string; status?: string } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the status alone speaks
  }
  return { status: response.status, code: body.code ?? body.status };
}

export function post(path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Outcome> {
  return http(`${apiUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
    body,
  });
}

/** A bodiless API call (GET, DELETE) with a caller's token. */
export function apiCall(method: string, path: string, token = TOKEN): Promise<Outcome> {
  return http(`${apiUrl}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
}

/** POST /v1/edits with a caller's token: the status and the answer's id and deduplicated flag. */
export async function enqueueAs(
  token: string,
  body: unknown,
): Promise<{ status: number; id: string; deduplicated: boolean }> {
  const response = await fetch(`${apiUrl}/v1/edits`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: json(body),
  });
  const answer = (await response.json()) as { id: string; deduplicated: boolean };
  return { status: response.status, id: answer.id, deduplicated: answer.deduplicated };
}

/** The id of a job caller `catalog` (TOKEN) enqueued through the API. */
export async function apiJob(): Promise<string> {
  return (await enqueueAs(TOKEN, pro({ prompt: `owned by catalog ${nextNumber()}` }))).id;
}

export type DashboardAs = 'viewer' | 'viewer-token' | 'operator' | 'nobody';
const basic = (c: { user: string; password: string }) =>
  `Basic ${Buffer.from(`${c.user}:${c.password}`).toString('base64')}`;

/** A request to the dashboard as the viewer, the operator or nobody; JSON bodies (a string: sent as is). */
export function board(
  as: DashboardAs,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Outcome> {
  const authorization = {
    viewer: basic(VIEWER),
    'viewer-token': `Bearer ${VIEWER_TOKEN}`,
    operator: basic(OPERATOR),
    nobody: undefined,
  }[as];
  return http(`${dashboardUrl}${path}`, {
    method,
    headers: {
      ...(authorization ? { authorization } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined || typeof body === 'string' ? body : json(body),
  });
}

/** The dashboard's JSON for one job, as the operator's board shows it (data redacted). */
export async function boardJobJson(queue: string, id: string): Promise<{ data: Record<string, unknown> }> {
  const response = await fetch(`${dashboardUrl}/queues/api/queues/${queue}/${id}`, {
    headers: { authorization: basic(OPERATOR) },
  });
  return ((await response.json()) as { job: { data: Record<string, unknown> } }).job;
}

export const json = (value: unknown) => JSON.stringify(value);

export function callbackBody(runId: string, extra: Record<string, unknown> = {}): string {
  return json({
    event: 'run.completed',
    run_id: runId,
    status: 'succeeded',
    output: { outputs: [{ url: 'https://cdn.example.com/out.png', type: 'image' }] },
    duration_ms: 1200,
    created_at: '2026-05-01T10:00:00.000000+00:00',
    completed_at: '2026-05-01T10:00:01.200000+00:00',
    metadata: { queue: 'edits', jobId: `job-${runId}`, clientRef: `rq_${runId}` },
    ...extra,
  });
}

export function callback(body: string | Buffer, signature: string | undefined, contentType = 'application/json') {
  return http(`${ingestUrl}${CALLBACK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(signature === undefined ? {} : { 'runflow-signature': signature }) },
    body,
  });
}

export const signed = (body: string | Buffer) => callback(body, signBody(SECRET, body));
export function nextNumber(): number {
  counter += 1;
  return counter;
}
export const freshRun = () => `run-${Date.now()}-${nextNumber()}`;

export const replayed = callbackBody('run-replayed');
/** Keys under this run's prefix: what a rejected request must not add to. */
export async function keyCount(): Promise<number> {
  // A Set: SCAN may return a key twice while Redis rehashes its keyspace (the valid requests grow it).
  const seen = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
    cursor = next;
    for (const key of keys) seen.add(key);
  } while (cursor !== '0');
  return seen.size;
}

/** A valid request on the same surface: the process kept serving. */
export async function validRequest(surface: Surface): Promise<Outcome> {
  if (surface === 'producer') return enqueue(pro({ prompt: `valid after ${nextNumber()}` }));
  if (surface === 'api') return post('/v1/edits', json(pro({ prompt: `valid after ${nextNumber()}` })));
  if (surface === 'dashboard') return board('viewer', 'GET', '/queues/api/queues');
  return signed(callbackBody(freshRun()));
}

/** The status a valid request on the surface answers. */
export const VALID_STATUS: Record<Surface, number> = { producer: 202, api: 202, ingest: 200, dashboard: 200 };

/** Starts the HTTP API and callback-ingest as processes, and the producer here. */
export async function startSurfaces(redisUrl: string): Promise<void> {
  redis = createRedis(redisUrl, { maxRetriesPerRequest: null });
  producer = createProducer({ redis, prefix });
  const [apiPort, ingestPort, dashboardPort] = [await freePort(), await freePort(), await freePort()];
  const common = { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, QUEUES: 'edits', HOST: '127.0.0.1', LOG_LEVEL: 'info' };
  api = spawnApp('api', {
    ...common,
    PORT: String(apiPort),
    API_TOKENS: `catalog:${TOKEN},search:${OTHER_TOKEN}`,
    API_ADMIN_TOKENS: `ops:${ADMIN_TOKEN}`,
    BODY_LIMIT_BYTES: String(BODY_LIMIT),
  });
  dashboard = spawnApp('dashboard', {
    ...common,
    QUEUES: 'edits,frozen',
    PORT: String(dashboardPort),
    DASHBOARD_USER: VIEWER.user,
    DASHBOARD_PASSWORD: VIEWER.password,
    DASHBOARD_TOKEN: VIEWER_TOKEN,
    DASHBOARD_OPERATOR_USER: OPERATOR.user,
    DASHBOARD_OPERATOR_PASSWORD: OPERATOR.password,
    DASHBOARD_READ_ONLY_QUEUES: 'frozen',
  });
  ingest = spawnApp('callback-ingest', {
    ...common,
    PORT: String(ingestPort),
    CALLBACK_SECRETS: `whsec_older_secret_abcdef,${SECRET}`,
    BODY_LIMIT_BYTES: String(BODY_LIMIT),
  });
  apiUrl = `http://127.0.0.1:${apiPort}`;
  ingestUrl = `http://127.0.0.1:${ingestPort}`;
  dashboardUrl = `http://127.0.0.1:${dashboardPort}`;
  await Promise.all([
    api.waitFor('api listening'),
    ingest.waitFor('callback-ingest listening'),
    dashboard.waitFor('dashboard listening'),
  ]);
  // Every BullMQ Queue writes its queue's meta hash once connected, after the app says it listens:
  // wait for them, or one would land during the first case and count as a key the case added.
  const metas = ['edits', 'frozen'].map((name) => `${bullPrefix(prefix, name)}:${name}:meta`);
  await waitFor(async () => (await redis.exists(...metas)) === metas.length, 10_000, 'queue meta keys');
}

/** A raw request to callback-ingest (any method and path). */
export function ingestCall(method: string, path: string): Promise<Outcome> {
  return http(`${ingestUrl}${path}`, { method });
}

/** Stops what startSurfaces started. */
export async function stopSurfaces(): Promise<void> {
  await Promise.all([api?.stop(), ingest?.stop(), dashboard?.stop()]);
  await producer?.close();
  await redis?.quit();
}

/** The processes are still up. */
export function processesUp(): boolean {
  return api.child.exitCode === null && ingest.child.exitCode === null && dashboard.child.exitCode === null;
}
