import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRunflowClient,
  isRunflowApiError,
  type RequestInfo,
  type RunflowApiError,
  type RunflowClient,
} from './index.ts';
import { runObject, sendJson, startTestServer, type TestServer } from './test-server.ts';

const API_KEY = 'rf_live_secret_key_0123456789';
const MODEL = 'google/nano-banana-pro/edit';
const BODY = {
  input: { prompt: 'make the sky purple', image_urls: ['https://example.com/in.png'] },
  callback_url: 'https://hooks.example.com/runflow',
  metadata: { queue: 'edits', jobId: 'job-1', clientRef: 'ref-1' },
  client_ref: 'ref-1',
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(handler: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const server = await startTestServer(handler);
  cleanups.push(() => server.close());
  return server;
}

function client(baseUrl: string, options: Partial<Parameters<typeof createRunflowClient>[0]> = {}): RunflowClient {
  const created = createRunflowClient({ baseUrl, apiKey: API_KEY, ...options });
  cleanups.push(() => created.close());
  return created;
}

/** Awaits a rejection and returns it as a RunflowApiError (fails the test otherwise). */
async function failure(promise: Promise<unknown>): Promise<RunflowApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isRunflowApiError(error)) throw new Error(`expected a RunflowApiError, got ${String(error)}`);
  return error;
}

/** A port with nothing listening. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('createRun / getRun success', () => {
  it('POSTs the exact JSON body with auth, idempotency key and content type to the model endpoint', async () => {
    const server = await serve((_req, res) => sendJson(res, 201, runObject('run-1')));
    const run = await client(server.url).createRun(MODEL, BODY, { idempotencyKey: 'idem-1' });

    expect(run).toMatchObject({ id: 'run-1', status_code: 'queued' });
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/v1/models/google/nano-banana-pro/edit/runs');
    expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request.headers['idempotency-key']).toBe('idem-1');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers.accept).toBe('application/json');
    expect(request.headers['user-agent']).toBe('runflow-queue/0.1');
    expect(JSON.parse(request.body)).toEqual(BODY);
  });

  it('keeps a base URL path prefix and encodes the run id', async () => {
    const server = await serve((_req, res) => sendJson(res, 200, runObject('a/b', { status_code: 'succeeded' })));
    const runflow = client(`${server.url}/runflow/`);
    await runflow.getRun('a/b');
    await runflow.createRun('google/nano-banana-2/edit', BODY);

    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /runflow/v1/runs/a%2Fb',
      'POST /runflow/v1/models/google/nano-banana-2/edit/runs',
    ]);
    expect(server.requests[0].headers['idempotency-key']).toBeUndefined();
    expect(server.requests[0].headers['content-type']).toBeUndefined();
  });
});

describe('HTTP error classification', () => {
  it('429 with Retry-After: 2 is retryable after 2000 ms', async () => {
    const server = await serve((_req, res) =>
      sendJson(res, 429, { code: 'RATE_LIMITED', message: 'Rate limit exceeded: 10/s' }, { 'retry-after': '2' }),
    );
    const error = await failure(client(server.url).createRun(MODEL, BODY));
    expect(error).toMatchObject({ kind: 'retryable', status: 429, code: 'RATE_LIMITED', retryAfterMs: 2000 });
    expect(error.message).toContain('createRun');
    expect(error.message).toContain('Rate limit exceeded');
    expect(error.message).toContain('retryable: will back off');
  });

  it('429 without Retry-After leaves retryAfterMs undefined and defaults the code', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(429);
      res.end();
    });
    const error = await failure(client(server.url).getRun('run-1'));
    expect(error).toMatchObject({ kind: 'retryable', status: 429, code: 'RATE_LIMITED', retryAfterMs: undefined });
  });

  it('503 is retryable and keeps Runflow’s code', async () => {
    const server = await serve((_req, res) =>
      sendJson(res, 503, { code: 'MODEL_UNAVAILABLE', message: 'provider down' }),
    );
    const error = await failure(client(server.url).createRun(MODEL, BODY));
    expect(error).toMatchObject({ kind: 'retryable', status: 503, code: 'MODEL_UNAVAILABLE', requestSent: true });
  });

  it('a 502 HTML page is retryable SERVER_ERROR with the page text in the message', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body>502 Bad Gateway</body></html>');
    });
    const error = await failure(client(server.url).getRun('run-1'));
    expect(error).toMatchObject({ kind: 'retryable', status: 502, code: 'SERVER_ERROR' });
    expect(error.message).toContain('502 Bad Gateway');
  });

  it('422 is permanent with Runflow’s code, message and errors', async () => {
    const errors = [{ field: 'input.prompt', message: 'required' }];
    const server = await serve((_req, res) =>
      sendJson(res, 422, { code: 'VALIDATION_ERROR', message: 'input is invalid', errors }),
    );
    const error = await failure(client(server.url).createRun(MODEL, BODY));
    expect(error).toMatchObject({
      kind: 'permanent',
      status: 422,
      code: 'VALIDATION_ERROR',
      runflowMessage: 'input is invalid',
      errors,
    });
    expect(error.message).toContain('HTTP 422 VALIDATION_ERROR: input is invalid');
    expect(error.message).toContain('permanent: will not retry');
  });

  it('reads the {error:{code,message}} and {detail} envelopes, and HTTP_<status> for non-JSON', async () => {
    const replies = [
      () => ({ status: 403, body: JSON.stringify({ error: { code: 'FORBIDDEN', message: 'no access to model' } }) }),
      () => ({ status: 400, body: JSON.stringify({ detail: 'prompt too short' }) }),
      () => ({ status: 402, body: 'Payment Required' }),
    ];
    const server = await serve((_req, res) => {
      const reply = replies[server.requests.length - 1]();
      res.writeHead(reply.status);
      res.end(reply.body);
    });
    const runflow = client(server.url);

    const forbidden = await failure(runflow.createRun(MODEL, BODY));
    expect(forbidden).toMatchObject({ kind: 'permanent', code: 'FORBIDDEN', runflowMessage: 'no access to model' });
    const detail = await failure(runflow.createRun(MODEL, BODY));
    expect(detail).toMatchObject({ kind: 'permanent', code: 'HTTP_400', runflowMessage: 'prompt too short' });
    const plain = await failure(runflow.createRun(MODEL, BODY));
    expect(plain).toMatchObject({ kind: 'permanent', status: 402, code: 'HTTP_402' });
    expect(plain.message).toContain('Payment Required');
  });

  it('404 RUN_NOT_FOUND on getRun is permanent', async () => {
    const server = await serve((_req, res) => sendJson(res, 404, { code: 'RUN_NOT_FOUND', message: 'run not found' }));
    const error = await failure(client(server.url).getRun('missing'));
    expect(error).toMatchObject({ kind: 'permanent', endpoint: 'getRun', status: 404, code: 'RUN_NOT_FOUND' });
    expect(error.message).toContain('GET /v1/runs/missing');
  });

  it('a 2xx with a garbage body is ambiguous for createRun and retryable for getRun', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end('{"id": ');
    });
    const runflow = client(server.url);
    expect(await failure(runflow.createRun(MODEL, BODY))).toMatchObject({
      kind: 'ambiguous',
      status: 201,
      code: 'INVALID_RESPONSE',
      requestSent: true,
    });
    expect(await failure(runflow.getRun('run-1'))).toMatchObject({ kind: 'retryable', code: 'INVALID_RESPONSE' });
  });

  it('a 2xx JSON body that is not a run is ambiguous for createRun', async () => {
    const server = await serve((_req, res) => sendJson(res, 201, { ok: true }));
    const error = await failure(client(server.url).createRun(MODEL, BODY));
    expect(error).toMatchObject({ kind: 'ambiguous', code: 'INVALID_RESPONSE' });
    expect(error.message).toContain('not a run object');
  });
});

describe('network failure classification', () => {
  it('a socket destroyed after the body was read: createRun ambiguous (sent once, never re-sent), getRun retryable', async () => {
    const server = await serve((req) => req.socket.destroy());
    const runflow = client(server.url);

    const create = await failure(runflow.createRun(MODEL, BODY));
    expect(create).toMatchObject({ kind: 'ambiguous', code: 'CONNECTION_RESET', requestSent: true, status: undefined });
    expect(create.message).toContain('after the request was sent');
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(1);

    const get = await failure(runflow.getRun('run-1'));
    expect(get).toMatchObject({ kind: 'retryable', code: 'CONNECTION_RESET', requestSent: true });
  });

  it('a reused keep-alive socket that dies on the second POST is ambiguous, not silently retried', async () => {
    const server = await serve((req, res) => {
      if (server.requests.length === 1) sendJson(res, 201, runObject('run-1'));
      else req.socket.destroy();
    });
    const runflow = client(server.url);
    await runflow.createRun(MODEL, BODY);
    const error = await failure(runflow.createRun(MODEL, BODY));
    expect(error).toMatchObject({ kind: 'ambiguous', requestSent: true });
    expect(server.connections()).toBe(1);
    expect(server.requests).toHaveLength(2);
  });

  it('no answer within headersTimeoutMs: createRun ambiguous TIMEOUT, getRun retryable', async () => {
    const server = await serve(() => {
      // never answers
    });
    const runflow = client(server.url, { headersTimeoutMs: 200 });
    const create = await failure(runflow.createRun(MODEL, BODY));
    expect(create).toMatchObject({ kind: 'ambiguous', code: 'TIMEOUT', requestSent: true });
    const get = await failure(runflow.getRun('run-1'));
    expect(get).toMatchObject({ kind: 'retryable', code: 'TIMEOUT', requestSent: true });
  });

  it('a body that stalls after 201 headers is ambiguous TIMEOUT with the status kept', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.write('{"id":"run-1",');
    });
    const error = await failure(client(server.url, { bodyTimeoutMs: 200 }).createRun(MODEL, BODY));
    expect(error).toMatchObject({ kind: 'ambiguous', code: 'TIMEOUT', status: 201, requestSent: true });
  });

  it('a closed port is retryable with requestSent false', async () => {
    const port = await closedPort();
    const error = await failure(client(`http://127.0.0.1:${port}`).createRun(MODEL, BODY));
    expect(error).toMatchObject({ kind: 'retryable', code: 'NETWORK_ERROR', requestSent: false, status: undefined });
    expect(error.message).toContain('before the request was sent');
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('an abort after sending is ambiguous for createRun; an already-aborted signal sends nothing', async () => {
    const server = await serve(() => {
      // never answers
    });
    const runflow = client(server.url);
    const sent = await failure(runflow.createRun(MODEL, BODY, { signal: AbortSignal.timeout(100) }));
    expect(sent).toMatchObject({ kind: 'ambiguous', code: 'TIMEOUT', requestSent: true });

    const controller = new AbortController();
    controller.abort();
    const unsent = await failure(runflow.createRun(MODEL, BODY, { signal: controller.signal }));
    expect(unsent).toMatchObject({ kind: 'retryable', code: 'ABORTED', requestSent: false });
    expect(server.requests).toHaveLength(1);
  });
});

describe('connection pool', () => {
  it('a request aborted while queued for a busy pool is never written, and the pool keeps working', async () => {
    const server = await serve((_req, res) => {
      setTimeout(() => sendJson(res, 201, runObject(`run-${server.requests.length}`)), 150);
    });
    const runflow = client(server.url, { connections: 1 });
    const first = runflow.createRun(MODEL, BODY);
    const queued = failure(runflow.createRun(MODEL, BODY, { signal: AbortSignal.timeout(30) }));

    expect(await queued).toMatchObject({ kind: 'retryable', code: 'ABORTED', requestSent: false });
    await expect(first).resolves.toMatchObject({ id: 'run-1' });
    await expect(runflow.createRun(MODEL, BODY)).resolves.toMatchObject({ id: 'run-2' });
    expect(server.requests).toHaveLength(2);
  });

  it('20 sequential getRun calls reuse one TCP connection', async () => {
    const server = await serve((_req, res) => sendJson(res, 200, runObject('run-1', { status_code: 'running' })));
    const runflow = client(server.url);
    for (let i = 0; i < 20; i++) await runflow.getRun('run-1');
    expect(server.requests).toHaveLength(20);
    expect(server.connections()).toBe(1);
  });

  it('50 concurrent requests all succeed within the configured number of connections', async () => {
    const server = await serve((req, res) => {
      setTimeout(() => sendJson(res, 200, runObject(req.url?.split('/').pop() ?? '')), 20);
    });
    const runflow = client(server.url, { connections: 8 });
    const runs = await Promise.all(Array.from({ length: 50 }, (_, i) => runflow.getRun(`run-${i}`)));
    expect(runs.map((run) => run.id)).toEqual(Array.from({ length: 50 }, (_, i) => `run-${i}`));
    expect(server.connections()).toBeLessThanOrEqual(8);
  });
});

describe('observability', () => {
  it('reports one onRequest per attempt and never logs or echoes the API key', async () => {
    const server = await serve((req, res) => {
      if (req.url?.endsWith('/ok')) sendJson(res, 200, runObject('ok'));
      else sendJson(res, 401, { code: 'UNAUTHORIZED', message: `invalid key ${API_KEY}` });
    });
    const logs: unknown[] = [];
    const infos: RequestInfo[] = [];
    const logger = {
      debug: (obj: object, msg?: string) => logs.push([obj, msg]),
      warn: (obj: object, msg?: string) => logs.push([obj, msg]),
    };
    const runflow = client(server.url, { logger, onRequest: (info) => infos.push(info) });

    await runflow.getRun('ok');
    const unauthorized = await failure(runflow.getRun('nope'));
    const refused = await failure(client(`http://127.0.0.1:${await closedPort()}`, { logger }).getRun('x'));

    expect(infos.map(({ outcome, status, code }) => ({ outcome, status, code }))).toEqual([
      { outcome: 'ok', status: 200, code: undefined },
      { outcome: 'permanent', status: 401, code: 'UNAUTHORIZED' },
    ]);
    expect(infos.every((info) => info.endpoint === 'getRun' && info.durationMs >= 0)).toBe(true);
    expect(logs.length).toBeGreaterThanOrEqual(3);
    const everything = JSON.stringify([logs, unauthorized.message, unauthorized.runflowMessage, refused.message]);
    expect(everything).not.toContain(API_KEY);
    expect(everything.toLowerCase()).not.toContain('bearer');
    expect(unauthorized.message).toContain('invalid key [redacted]');
  });
});

describe('arguments and lifecycle', () => {
  it('rejects bad arguments as permanent INVALID_REQUEST without sending anything', async () => {
    const server = await serve((_req, res) => sendJson(res, 201, runObject('run-1')));
    const runflow = client(server.url);

    const badKey = await failure(runflow.createRun(MODEL, BODY, { idempotencyKey: 'a\r\nx-evil: 1' }));
    expect(badKey).toMatchObject({ kind: 'permanent', code: 'INVALID_REQUEST', requestSent: false });
    const emptyId = await failure(runflow.getRun(''));
    expect(emptyId).toMatchObject({ kind: 'permanent', code: 'INVALID_REQUEST', requestSent: false });
    const unknownModel = await failure(runflow.createRun('acme/unknown' as typeof MODEL, BODY));
    expect(unknownModel).toMatchObject({ kind: 'permanent', code: 'INVALID_REQUEST' });
    expect(server.requests).toHaveLength(0);
  });

  it('rejects a bad baseUrl at construction', () => {
    expect(() => createRunflowClient({ baseUrl: 'api.runflow.io', apiKey: API_KEY })).toThrow(/baseUrl/);
    expect(() => createRunflowClient({ baseUrl: 'https://api.runflow.io/?x=1', apiKey: API_KEY })).toThrow(/query/);
    expect(() => createRunflowClient({ baseUrl: 'https://api.runflow.io', apiKey: '' })).toThrow(/apiKey/);
  });

  it('a throwing onRequest hook does not break the call', async () => {
    const server = await serve((_req, res) => sendJson(res, 200, runObject('run-1')));
    const warnings: unknown[] = [];
    const runflow = client(server.url, {
      onRequest: () => {
        throw new Error('metrics down');
      },
      logger: { debug: () => {}, warn: (obj) => warnings.push(obj) },
    });
    await expect(runflow.getRun('run-1')).resolves.toMatchObject({ id: 'run-1' });
    expect(JSON.stringify(warnings)).toContain('metrics down');
  });

  it('after close(), calls fail retryable CLIENT_CLOSED without sending', async () => {
    const server = await serve((_req, res) => sendJson(res, 200, runObject('run-1')));
    const runflow = client(server.url);
    await runflow.getRun('run-1');
    await runflow.close();
    const error = await failure(runflow.getRun('run-1'));
    expect(error).toMatchObject({ kind: 'retryable', code: 'CLIENT_CLOSED', requestSent: false });
    expect(server.requests).toHaveLength(1);
  });
});
