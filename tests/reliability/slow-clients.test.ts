import { connect, type Socket } from 'node:net';
import { buildApp, CALLBACK_PATH } from '@runflow-queue/callback-ingest';
import { signBody } from '@runflow-queue/runflow-sim';
import type { ServerLimits } from '@runflow-queue/shared';
import { CallbackInbox, createRedis, type RedisClient } from '@runflow-queue/store';
import { uniquePrefix } from '@runflow-queue/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { quietLogger } from '../support/fleet.ts';

// callback-ingest is public and reads the body before it can check the signature. Slow
// clients over real sockets — a trickled body, headers and then nothing, half the headers, an idle
// kept-alive connection — are each cut within its configured timeout, and signed callbacks keep
// landing meanwhile. The timeouts are small here; the defaults are in apps/callback-ingest/src/env.ts.

const SECRET = 'whsec_slow_clients_0123456789';
const LIMITS: ServerLimits = {
  requestTimeoutMs: 1_500,
  headersTimeoutMs: 800,
  keepAliveTimeoutMs: 600,
  idleTimeoutMs: 4_000,
  maxConnections: 40,
};
/** Node checks the deadlines on a timer (a fifth of the headers timeout here), and a busy CI box is slow. */
const SLACK_MS = 1_200;

let redis: RedisClient;
let prefix: string;
let app: FastifyInstance;
let port: number;

function callbackBody(runId: string): string {
  return JSON.stringify({
    event: 'run.completed',
    run_id: runId,
    status: 'succeeded',
    output: { outputs: [{ url: 'https://cdn.example.com/out.png', type: 'image' }] },
    created_at: '2026-05-01T10:00:00.000000+00:00',
    completed_at: '2026-05-01T10:00:01.200000+00:00',
    metadata: { queue: 'edits', jobId: `job-${runId}`, clientRef: `rq_${runId}` },
  });
}

interface Held {
  /** ms from connect to the server closing the connection. */
  closedAfterMs: number;
  /** What the server wrote before closing. */
  received: string;
}

/**
 * Opens a raw connection, lets `drive` write (or not; it may return a stop function for a timer it
 * started), and resolves when the server closes the connection.
 */
function hold(target: number, drive: (socket: Socket) => (() => void) | undefined, giveUpMs = 15_000): Promise<Held> {
  return new Promise((resolve, reject) => {
    // From the dial, not from 'connect': a connection over the cap may be closed before 'connect' fires.
    const openedAt = performance.now();
    const socket = connect(target, '127.0.0.1');
    let received = '';
    let stop: (() => void) | undefined;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${giveUpMs} ms`));
    }, giveUpMs);
    socket.on('connect', () => {
      stop = drive(socket);
    });
    socket.on('data', (chunk) => {
      received += chunk.toString();
    });
    socket.on('error', () => {}); // a reset is a close too
    socket.on('close', () => {
      clearTimeout(giveUp);
      stop?.();
      resolve({ closedAfterMs: performance.now() - openedAt, received });
    });
  });
}

/** Headers for a callback with a body of `length` bytes. */
const headers = (length: number, extra = '') =>
  `POST ${CALLBACK_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
  `Content-Length: ${length}\r\nRunflow-Signature: ${'0'.repeat(64)}\r\n${extra}\r\n`;

/** Complete headers, then one byte of body every 100 ms (never idle, never done). */
const trickle = (socket: Socket) => {
  socket.write(headers(10_000));
  const timer = setInterval(() => socket.writable && socket.write('{'), 100);
  return () => clearInterval(timer);
};
/** Complete headers, then nothing. */
const noBody = (socket: Socket) => {
  socket.write(headers(500));
  return undefined;
};
/** Half of the headers, then nothing. */
const halfHeaders = (socket: Socket) => {
  socket.write(`POST ${CALLBACK_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty`);
  return undefined;
};

async function signedCallback(runId: string): Promise<{ status: number; body: unknown; ms: number }> {
  const body = callbackBody(runId);
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}${CALLBACK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'runflow-signature': signBody(SECRET, body) },
    body,
  });
  return { status: response.status, body: await response.json(), ms: performance.now() - started };
}

/** How many connections the server holds now. */
function connectionCount(server: FastifyInstance): Promise<number> {
  return new Promise((resolve, reject) =>
    server.server.getConnections((err, count) => (err ? reject(err) : resolve(count))),
  );
}

function expectCutWithin(held: Held, timeoutMs: number): void {
  // Not before the timeout (the server waited as configured) and not long after it.
  expect(held.closedAfterMs).toBeGreaterThanOrEqual(timeoutMs * 0.9);
  expect(held.closedAfterMs).toBeLessThanOrEqual(timeoutMs + SLACK_MS);
}

beforeAll(async () => {
  redis = createRedis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
  prefix = uniquePrefix('slow');
  app = buildApp({ redis, prefix, queues: ['edits'], secrets: [SECRET], logger: quietLogger, limits: LIMITS });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
});

afterAll(async () => {
  await app?.close();
  await redis?.quit();
});

describe('callback-ingest under slow clients', () => {
  it('cuts trickled bodies, withheld bodies and half headers within their timeouts while signed callbacks land', async () => {
    const slow = [
      ...Array.from({ length: 8 }, () => hold(port, trickle).then((h) => ({ kind: 'trickled body', ...h }))),
      ...Array.from({ length: 8 }, () => hold(port, noBody).then((h) => ({ kind: 'no body', ...h }))),
      ...Array.from({ length: 8 }, () => hold(port, halfHeaders).then((h) => ({ kind: 'half headers', ...h }))),
    ];
    // Meanwhile, valid signed callbacks are stored as fast as ever.
    const landed = [];
    for (let i = 0; i < 10; i += 1) landed.push(await signedCallback(`run-slow-${i}`));
    for (const result of landed) {
      expect(result).toMatchObject({ status: 200, body: { status: 'stored' } });
      expect(result.ms).toBeLessThan(1_000);
    }
    const inbox = new CallbackInbox(redis, { prefix });
    expect(await inbox.has('edits', 'run-slow-9')).toBe(true);

    const held = await Promise.all(slow);
    for (const h of held) {
      const timeout = h.kind === 'half headers' ? LIMITS.headersTimeoutMs : LIMITS.requestTimeoutMs;
      expectCutWithin(h, timeout);
      // Answered with our coded 408 before the close, not a silent reset.
      expect(h.received, h.kind).toMatch(/^HTTP\/1\.1 408 /);
      expect(h.received, h.kind).toContain('"code":"REQUEST_TIMEOUT"');
    }
    // Still serving after the cuts.
    expect((await signedCallback('run-slow-after')).status).toBe(200);
  });

  it('closes an idle kept-alive connection after the keep-alive timeout', async () => {
    const body = callbackBody('run-keepalive');
    const held = await hold(port, (socket) => {
      socket.write(
        `POST ${CALLBACK_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nRunflow-Signature: ${signBody(SECRET, body)}\r\n` +
          `Connection: keep-alive\r\n\r\n${body}`,
      );
      return undefined;
    });
    expect(held.received).toMatch(/^HTTP\/1\.1 200 /);
    // The request took a few ms; the rest is the idle keep-alive connection being let go.
    expect(held.closedAfterMs).toBeGreaterThanOrEqual(LIMITS.keepAliveTimeoutMs * 0.9);
    expect(held.closedAfterMs).toBeLessThanOrEqual(LIMITS.keepAliveTimeoutMs + SLACK_MS + 1_000);
  });

  it('holds at most maxConnections at once, and serves again once the slow ones are cut', async () => {
    const capped = buildApp({
      redis,
      prefix,
      queues: ['edits'],
      secrets: [SECRET],
      logger: quietLogger,
      limits: { ...LIMITS, maxConnections: 5 },
    });
    await capped.listen({ host: '127.0.0.1', port: 0 });
    const cappedPort = (capped.server.address() as { port: number }).port;
    try {
      const slow = Array.from({ length: 5 }, () => hold(cappedPort, noBody));
      await expect.poll(() => connectionCount(capped), { timeout: 5_000, interval: 20 }).toBe(5);
      const extra = await hold(cappedPort, noBody);
      // The sixth is closed at once, unanswered; the five are cut at the request timeout.
      expect(extra.closedAfterMs).toBeLessThan(LIMITS.requestTimeoutMs * 0.5);
      expect(extra.received).toBe('');
      for (const h of await Promise.all(slow)) expectCutWithin(h, LIMITS.requestTimeoutMs);
      const body = callbackBody('run-after-cap');
      const response = await fetch(`http://127.0.0.1:${cappedPort}${CALLBACK_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'runflow-signature': signBody(SECRET, body) },
        body,
      });
      expect(response.status).toBe(200);
    } finally {
      await capped.close();
    }
  });
});
