import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SimOptions } from './sim-options.ts';
import type { Sim } from './start-sim.ts';

// Helpers for this package's tests: a real callback receiver and thin API calls over real sockets.

export const PRO = 'google/nano-banana-pro/edit';
export const NB2 = 'google/nano-banana-2/edit';
export const IMAGE_URL = 'https://public.runflow.io/images/models/_shared/base-engineer.png';

export interface ReceivedCallback {
  rawBody: Buffer;
  body: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
  receivedAtMs: number;
}

export interface CallbackReceiver {
  url: string;
  received: ReceivedCallback[];
  /** Resolves once `count` callbacks arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedCallback[]>;
  close(): Promise<void>;
}

/**
 * Starts a receiver that records every POST and answers with `respond(n)` (n = 1-based arrival
 * number; default 200). Requests are recorded even when answered non-2xx.
 */
export async function startReceiver(respond: (n: number) => number = () => 200): Promise<CallbackReceiver> {
  const received: ReceivedCallback[] = [];
  let waiters: { count: number; resolve: () => void }[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      received.push({
        rawBody,
        body: JSON.parse(rawBody.toString('utf8')),
        headers: request.headers,
        receivedAtMs: Date.now(),
      });
      response.statusCode = respond(received.length);
      response.end('{}');
      waiters = waiters.filter((waiter) => {
        if (received.length < waiter.count) return true;
        waiter.resolve();
        return false;
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/runflow/callback`,
    received,
    waitFor(count, timeoutMs = 3000) {
      if (received.length >= count) return Promise.resolve(received);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`expected ${count} callbacks within ${timeoutMs} ms, got ${received.length}`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(received);
          },
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON fields
  body: any;
}

export async function api(
  sim: Sim,
  path: string,
  init: RequestInit & { apiKey?: string | null } = {},
): Promise<ApiResponse> {
  const headers = new Headers(init.headers);
  const apiKey = init.apiKey === undefined ? sim.apiKey : init.apiKey;
  if (apiKey !== null) headers.set('authorization', `Bearer ${apiKey}`);
  if (init.body !== undefined) headers.set('content-type', 'application/json');
  const response = await fetch(`${sim.url}${path}`, { ...init, headers });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

export function editBody(
  input: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { input: { prompt: 'make it blue', image_urls: [IMAGE_URL], ...input }, ...extra };
}

export function createRun(
  sim: Sim,
  model: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  return api(sim, `/v1/models/${model}/runs`, { method: 'POST', body: JSON.stringify(body), headers });
}

/** Polls GET /v1/runs/{id} until the run is terminal. */
export async function pollUntilTerminal(sim: Sim, runId: string, timeoutMs = 3000): Promise<ApiResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await api(sim, `/v1/runs/${runId}`);
    if (response.status !== 200) throw new Error(`GET run answered ${response.status}`);
    if (!['queued', 'running'].includes(response.body.status_code)) return response;
    if (Date.now() > deadline) throw new Error(`run ${runId} not terminal after ${timeoutMs} ms`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The options every test starts from: fast runs and fast callback retries. */
export function fastOptions(extra: SimOptions = {}): SimOptions {
  return {
    port: 0,
    latencyMs: { min: 0, max: 20 },
    callbackRetry: { attempts: 3, delaysMs: [50, 100], timeoutMs: 1000 },
    ...extra,
  };
}

/** The signature a receiver expects, computed independently of the simulator's signBody. */
export function hmacHex(secret: string, rawBody: Buffer): string {
  return createHmac('sha256', secret).update(rawBody).digest('hex');
}
