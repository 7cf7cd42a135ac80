import { CALLBACK_PATH } from '@runflow-queue/callback-ingest';
import { createProducer, type EditProducer } from '@runflow-queue/producer';
import { signBody } from '@runflow-queue/runflow-sim';
import { RunflowQueueError } from '@runflow-queue/shared';
import { createRedis, type RedisClient } from '@runflow-queue/store';
import { freePort, uniquePrefix } from '@runflow-queue/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AppProcess, startApp } from '../reliability/support/app-process.ts';

// The bad-input catalogue (invariant 7, and 6 for callbacks): every case names its surface, the stable
// code and HTTP status it must get, and how many Redis keys it may add (almost always none). After each
// case a valid request on the same surface must still succeed, and the processes must still be up.
// The producer is called in this process; the HTTP API and callback-ingest run as real processes.

const SECRET = 'whsec_bad_input_secret_0123';
const TOKEN = 'svc_bad_input_token_0123456789';
const BODY_LIMIT = 1024 * 1024;
const prefix = uniquePrefix('badinput');

let redis: RedisClient;
let producer: EditProducer;
let api: AppProcess;
let ingest: AppProcess;
let apiUrl: string;
let ingestUrl: string;
let counter = 0;

type Surface = 'producer' | 'api' | 'ingest';
interface Outcome {
  status: number;
  code: string | undefined;
}
interface BadCase {
  surface: Surface;
  name: string;
  code: string;
  status: number;
  /** Keys under the prefix the case may add (a replay or an accepted twin); default none. */
  keysAdded?: number;
  /** Runs before the keys are counted: what the case needs to exist first. */
  prepare?: () => Promise<void>;
  send: () => Promise<Outcome>;
}

const IMAGE = 'https://cdn.example.com/in.png';
const pro = (input: Record<string, unknown> = {}) => ({
  model: 'google/nano-banana-pro/edit',
  input: { prompt: 'make it blue', image_urls: [IMAGE], ...input },
});

/** Calls the producer the way a service would; a rejection becomes its code and status. */
async function enqueue(request: unknown, queue = 'edits', options = {}): Promise<Outcome> {
  try {
    // biome-ignore lint/suspicious/noExplicitAny: the catalogue sends what the types forbid
    await producer.enqueueEdit(queue, request as any, options);
    return { status: 202, code: undefined };
  } catch (error) {
    if (!(error instanceof RunflowQueueError)) throw error;
    return { status: error.status, code: error.code };
  }
}

async function enqueueMany(requests: unknown[]): Promise<Outcome> {
  try {
    // biome-ignore lint/suspicious/noExplicitAny: the catalogue sends what the types forbid
    await producer.enqueueEdits('edits', requests as any);
    return { status: 202, code: undefined };
  } catch (error) {
    if (!(error instanceof RunflowQueueError)) throw error;
    return { status: error.status, code: error.code };
  }
}

async function http(url: string, init: RequestInit): Promise<Outcome> {
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

function post(path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Outcome> {
  return http(`${apiUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
    body,
  });
}

const json = (value: unknown) => JSON.stringify(value);

function callbackBody(runId: string, extra: Record<string, unknown> = {}): string {
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

function callback(body: string | Buffer, signature: string | undefined, contentType = 'application/json') {
  return http(`${ingestUrl}${CALLBACK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(signature === undefined ? {} : { 'runflow-signature': signature }) },
    body,
  });
}

const signed = (body: string | Buffer) => callback(body, signBody(SECRET, body));
function nextNumber(): number {
  counter += 1;
  return counter;
}
const freshRun = () => `run-${Date.now()}-${nextNumber()}`;

const replayed = callbackBody('run-replayed');
const CASES: BadCase[] = [
  // The producer API (what services import).
  {
    surface: 'producer',
    name: 'unknown model',
    code: 'UNKNOWN_MODEL',
    status: 422,
    send: () => enqueue({ ...pro(), model: 'google/imagen/edit' }),
  },
  {
    surface: 'producer',
    name: 'missing model',
    code: 'UNKNOWN_MODEL',
    status: 422,
    send: () => enqueue({ input: pro().input }),
  },
  { surface: 'producer', name: 'request is null', code: 'UNKNOWN_MODEL', status: 422, send: () => enqueue(null) },
  {
    surface: 'producer',
    name: 'input is a string',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue({ model: pro().model, input: 'blue' }),
  },
  {
    surface: 'producer',
    name: 'prompt of the wrong type',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro({ prompt: 42 })),
  },
  {
    surface: 'producer',
    name: 'empty prompt',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro({ prompt: '' })),
  },
  {
    surface: 'producer',
    name: 'whitespace-only prompt',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro({ prompt: '   \n ' })),
  },
  {
    surface: 'producer',
    name: '1 MB prompt',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro({ prompt: 'x'.repeat(1_000_000) })),
  },
  {
    surface: 'producer',
    name: 'no image URLs',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro({ image_urls: [] })),
  },
  {
    surface: 'producer',
    name: '5,000 image URLs',
    code: 'INVALID_INPUT',
    status: 422,
    send: () =>
      enqueue(pro({ image_urls: Array.from({ length: 5_000 }, (_, i) => `https://cdn.example.com/${i}.png`) })),
  },
  {
    surface: 'producer',
    name: 'image_urls is a string',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro({ image_urls: IMAGE })),
  },
  {
    surface: 'producer',
    name: 'javascript: URL',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro({ image_urls: ['javascript:alert(1)'] })),
  },
  {
    surface: 'producer',
    name: 'file: URL',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro({ image_urls: ['file:///etc/passwd'] })),
  },
  {
    surface: 'producer',
    name: 'relative URL',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro({ image_urls: ['/images/in.png'] })),
  },
  {
    surface: 'producer',
    name: 'data: URI',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro({ image_urls: ['data:image/png;base64,AAAA'] })),
  },
  {
    surface: 'producer',
    name: 'num_images 0',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro({ num_images: 0 })),
  },
  {
    surface: 'producer',
    name: 'num_images 5',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro({ num_images: 5 })),
  },
  {
    surface: 'producer',
    name: 'num_images -1',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro({ num_images: -1 })),
  },
  {
    surface: 'producer',
    name: 'num_images 1.5',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro({ num_images: 1.5 })),
  },
  {
    surface: 'producer',
    name: 'num_images "2" (a string)',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro({ num_images: '2' })),
  },
  {
    surface: 'producer',
    name: 'resolution of the other model (0.5K on pro)',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro({ resolution: '0.5K' })),
  },
  {
    surface: 'producer',
    name: 'unknown input field',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro({ strength: 0.5 })),
  },
  {
    surface: 'producer',
    name: 'unknown top-level field',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue({ ...pro(), callbackUrl: 'https://x' }),
  },
  {
    surface: 'producer',
    name: '__proto__ key in the input',
    code: 'INVALID_INPUT',
    status: 422,
    send: () =>
      enqueue(
        JSON.parse(
          `{"model":"google/nano-banana-pro/edit","input":{"prompt":"x","image_urls":["${IMAGE}"],"__proto__":{"polluted":true}}}`,
        ),
      ),
  },
  {
    surface: 'producer',
    name: 'constructor.prototype key in the input',
    code: 'INVALID_INPUT',
    status: 422,
    send: () =>
      enqueue(
        JSON.parse(
          `{"model":"google/nano-banana-pro/edit","input":{"prompt":"x","image_urls":["${IMAGE}"],"constructor":{"prototype":{"polluted":true}}}}`,
        ),
      ),
  },
  {
    surface: 'producer',
    name: '__proto__ key at the top level',
    code: 'INVALID_INPUT',
    status: 422,
    send: () =>
      enqueue(
        JSON.parse(
          `{"model":"google/nano-banana-pro/edit","input":{"prompt":"x","image_urls":["${IMAGE}"]},"__proto__":{"polluted":true}}`,
        ),
      ),
  },
  {
    surface: 'producer',
    name: 'idempotency key of 256 characters',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue({ ...pro(), idempotencyKey: 'k'.repeat(256) }),
  },
  {
    surface: 'producer',
    name: 'idempotency key reused for a different request',
    code: 'IDEMPOTENCY_KEY_REUSED',
    status: 409,
    prepare: async () => void (await enqueue({ ...pro(), idempotencyKey: 'reused-key' })),
    send: () => enqueue({ ...pro({ prompt: 'something else' }), idempotencyKey: 'reused-key' }),
  },
  {
    surface: 'producer',
    name: 'notifyUrl on loopback over http',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue({ ...pro(), notifyUrl: 'http://127.0.0.1:8080/hook' }),
  },
  {
    surface: 'producer',
    name: 'notifyUrl on a private network',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue({ ...pro(), notifyUrl: 'https://10.0.0.5/hook' }),
  },
  {
    surface: 'producer',
    name: 'queue name with spaces',
    code: 'UNKNOWN_QUEUE',
    status: 404,
    send: () => enqueue(pro(), 'Bad Queue'),
  },
  {
    surface: 'producer',
    name: 'priority 0',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro(), 'edits', { priority: 0 }),
  },
  {
    surface: 'producer',
    name: 'negative delayMs',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro(), 'edits', { delayMs: -5 }),
  },
  {
    surface: 'producer',
    name: 'cost center of 65 characters',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue({ ...pro(), tags: { costCenter: 'c'.repeat(65) } }),
  },
  {
    surface: 'producer',
    name: 'bulk with one bad item among good ones',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueueMany([pro(), pro({ num_images: 9 }), pro()]),
  },

  // The HTTP API (apps/api).
  {
    surface: 'api',
    name: 'malformed JSON',
    code: 'MALFORMED_JSON',
    status: 400,
    send: () => post('/v1/edits', '{"model": "google/nano-banana-pro/edit",'),
  },
  { surface: 'api', name: 'empty JSON body', code: 'MALFORMED_JSON', status: 400, send: () => post('/v1/edits', '') },
  {
    surface: 'api',
    name: '__proto__ key (refused by the JSON parser)',
    code: 'MALFORMED_JSON',
    status: 400,
    send: () => post('/v1/edits', `{"__proto__":{"polluted":true},"model":"google/nano-banana-pro/edit"}`),
  },
  {
    surface: 'api',
    name: 'constructor.prototype key (refused by the JSON parser)',
    code: 'MALFORMED_JSON',
    status: 400,
    send: () => post('/v1/edits', '{"constructor":{"prototype":{"polluted":true}}}'),
  },
  {
    surface: 'api',
    name: 'wrong content type (text/plain)',
    code: 'UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    send: () => post('/v1/edits', json(pro()), { 'content-type': 'text/plain' }),
  },
  {
    surface: 'api',
    name: 'body over the size limit',
    code: 'BODY_TOO_LARGE',
    status: 413,
    send: () => post('/v1/edits', json(pro({ prompt: 'x'.repeat(BODY_LIMIT + 10) }))),
  },
  {
    surface: 'api',
    name: 'no bearer token',
    code: 'API_UNAUTHENTICATED',
    status: 401,
    send: () => post('/v1/edits', json(pro()), { authorization: '' }),
  },
  {
    surface: 'api',
    name: 'wrong bearer token',
    code: 'API_UNAUTHENTICATED',
    status: 401,
    send: () => post('/v1/edits', json(pro()), { authorization: `Bearer ${TOKEN}x` }),
  },
  {
    surface: 'api',
    name: 'a JSON array',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => post('/v1/edits', json([pro()])),
  },
  {
    surface: 'api',
    name: '1 MB prompt',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => post('/v1/edits', json(pro({ prompt: 'x'.repeat(1_000_000) }))),
  },
  {
    surface: 'api',
    name: '3,000 image URLs',
    code: 'INVALID_INPUT',
    status: 422,
    send: () =>
      post(
        '/v1/edits',
        json(pro({ image_urls: Array.from({ length: 3_000 }, (_, i) => `https://c.example/${i}.png`) })),
      ),
  },
  {
    surface: 'api',
    name: 'unknown model',
    code: 'UNKNOWN_MODEL',
    status: 422,
    send: () => post('/v1/edits', json({ ...pro(), model: 'acme/unknown' })),
  },
  {
    surface: 'api',
    name: 'num_images 1.5',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => post('/v1/edits', json(pro({ num_images: 1.5 }))),
  },
  {
    surface: 'api',
    name: 'unknown queue',
    code: 'UNKNOWN_QUEUE',
    status: 404,
    send: () => post('/v1/edits', json({ ...pro(), queue: 'nope' })),
  },
  {
    surface: 'api',
    name: 'Idempotency-Key header differs from the body key',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => post('/v1/edits', json({ ...pro(), idempotencyKey: 'a' }), { 'idempotency-key': 'b' }),
  },
  {
    surface: 'api',
    name: 'batch with no items',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => post('/v1/edits:batch', json({ items: [] })),
  },
  {
    surface: 'api',
    name: 'batch with one bad item',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => post('/v1/edits:batch', json({ items: [pro(), pro({ image_urls: ['file:///x'] })] })),
  },

  // callback-ingest: signature first, then the body.
  {
    surface: 'ingest',
    name: 'missing signature',
    code: 'CALLBACK_SIGNATURE_MISSING',
    status: 401,
    send: () => callback(callbackBody(freshRun()), undefined),
  },
  {
    surface: 'ingest',
    name: 'empty signature',
    code: 'CALLBACK_SIGNATURE_MISSING',
    status: 401,
    send: () => callback(callbackBody(freshRun()), ''),
  },
  {
    surface: 'ingest',
    name: 'short signature',
    code: 'CALLBACK_SIGNATURE_INVALID',
    status: 401,
    send: () => callback(callbackBody(freshRun()), 'abc123'),
  },
  {
    surface: 'ingest',
    name: 'non-hex signature of the right length',
    code: 'CALLBACK_SIGNATURE_INVALID',
    status: 401,
    send: () => callback(callbackBody(freshRun()), 'z'.repeat(64)),
  },
  {
    surface: 'ingest',
    name: '"sha256=" prefixed signature',
    code: 'CALLBACK_SIGNATURE_INVALID',
    status: 401,
    send: () => {
      const body = callbackBody(freshRun());
      return callback(body, `sha256=${signBody(SECRET, body)}`);
    },
  },
  {
    surface: 'ingest',
    name: 'signature made with another secret',
    code: 'CALLBACK_SIGNATURE_INVALID',
    status: 401,
    send: () => {
      const body = callbackBody(freshRun());
      return callback(body, signBody('whsec_not_trusted_here', body));
    },
  },
  {
    surface: 'ingest',
    name: 'valid signature over a different body',
    code: 'CALLBACK_SIGNATURE_INVALID',
    status: 401,
    send: () =>
      callback(callbackBody(freshRun(), { status: 'succeeded' }), signBody(SECRET, callbackBody('another-run'))),
  },
  {
    surface: 'ingest',
    name: 'signed, malformed JSON',
    code: 'CALLBACK_MALFORMED_JSON',
    status: 400,
    send: () => signed('{"event": "run.completed", '),
  },
  {
    surface: 'ingest',
    name: 'signed, fails the schema (no run_id)',
    code: 'CALLBACK_PAYLOAD_INVALID',
    status: 400,
    send: () => signed(json({ event: 'run.completed', status: 'succeeded' })),
  },
  {
    surface: 'ingest',
    name: 'signed, a JSON array',
    code: 'CALLBACK_PAYLOAD_INVALID',
    status: 400,
    send: () => signed(json([callbackBody('x')])),
  },
  {
    surface: 'ingest',
    name: 'signed, status of the wrong type',
    code: 'CALLBACK_PAYLOAD_INVALID',
    status: 400,
    send: () => signed(callbackBody(freshRun(), { status: 200 })),
  },
  {
    surface: 'ingest',
    name: 'signed, run_id of 300 characters',
    code: 'CALLBACK_PAYLOAD_INVALID',
    status: 400,
    send: () => signed(callbackBody('r'.repeat(300))),
  },
  {
    surface: 'ingest',
    name: 'wrong content type (text/plain)',
    code: 'CALLBACK_UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    send: () => {
      const body = callbackBody(freshRun());
      return callback(body, signBody(SECRET, body), 'text/plain');
    },
  },
  {
    surface: 'ingest',
    name: 'body over the size limit',
    code: 'CALLBACK_BODY_TOO_LARGE',
    status: 413,
    send: () => signed(callbackBody(freshRun(), { output: { blob: 'x'.repeat(BODY_LIMIT + 10) } })),
  },
  {
    surface: 'ingest',
    name: 'replayed valid callback (same bytes again)',
    code: 'duplicate',
    status: 200,
    prepare: async () => void expect((await signed(replayed)).code).toBe('stored'),
    send: () => signed(replayed),
  },
  {
    surface: 'ingest',
    name: 'validly signed callback for an unknown run',
    code: 'unmatched',
    status: 202,
    send: () => signed(callbackBody(freshRun(), { metadata: null })),
  },
  {
    surface: 'ingest',
    name: 'validly signed, __proto__ in the metadata',
    code: 'unmatched',
    status: 202,
    send: () =>
      signed(callbackBody(freshRun(), { metadata: JSON.parse('{"__proto__":{"queue":"edits","jobId":"x"}}') })),
  },
];

/** Keys under this run's prefix: what a rejected request must not add to. */
async function keyCount(): Promise<number> {
  let count = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
    cursor = next;
    count += keys.length;
  } while (cursor !== '0');
  return count;
}

/** A valid request on the same surface: the process kept serving. */
async function validRequest(surface: Surface): Promise<Outcome> {
  if (surface === 'producer') return enqueue(pro({ prompt: `valid after ${nextNumber()}` }));
  if (surface === 'api') return post('/v1/edits', json(pro({ prompt: `valid after ${nextNumber()}` })));
  return signed(callbackBody(freshRun()));
}

beforeAll(async () => {
  const redisUrl = inject('redisUrl');
  redis = createRedis(redisUrl, { maxRetriesPerRequest: null });
  producer = createProducer({ redis, prefix });
  const [apiPort, ingestPort] = [await freePort(), await freePort()];
  const common = { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, QUEUES: 'edits', HOST: '127.0.0.1', LOG_LEVEL: 'info' };
  api = startApp('api', { ...common, PORT: String(apiPort), API_TOKENS: TOKEN, BODY_LIMIT_BYTES: String(BODY_LIMIT) });
  ingest = startApp('callback-ingest', {
    ...common,
    PORT: String(ingestPort),
    CALLBACK_SECRETS: `whsec_older_secret_abcdef,${SECRET}`,
    BODY_LIMIT_BYTES: String(BODY_LIMIT),
  });
  apiUrl = `http://127.0.0.1:${apiPort}`;
  ingestUrl = `http://127.0.0.1:${ingestPort}`;
  await Promise.all([api.waitFor('api listening'), ingest.waitFor('callback-ingest listening')]);
});

afterAll(async () => {
  await Promise.all([api?.stop(), ingest?.stop()]);
  await producer?.close();
  await redis?.quit();
});

describe('bad-input catalogue', () => {
  it('has at least 40 cases over the producer, the HTTP API and callback-ingest', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.surface))).toEqual(new Set(['producer', 'api', 'ingest']));
  });

  it.each(CASES)('$surface: $name → $status $code', async (badCase) => {
    await badCase.prepare?.();
    const before = await keyCount();
    const outcome = await badCase.send();
    expect(outcome).toEqual({ status: badCase.status, code: badCase.code });
    expect(await keyCount()).toBe(before + (badCase.keysAdded ?? 0));
    // Prototype pollution would show up on every object of this process.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Still serving: a valid request on the same surface succeeds, and the processes are up.
    const valid = await validRequest(badCase.surface);
    expect(valid.status).toBe(badCase.surface === 'ingest' ? 200 : 202);
    expect(api.child.exitCode).toBeNull();
    expect(ingest.child.exitCode).toBeNull();
  });
});
