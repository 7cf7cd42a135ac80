import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { z } from 'zod';

// How long an HTTP app waits for a slow client, and how many connections it holds at once. Node's own
// defaults are generous (headers 60 s, request 300 s) and fastify's requestTimeout default of 0 turns
// the request timeout off: a client that sends its headers and then trickles — or withholds — the body
// would hold a socket and a file descriptor for as long as it likes.

export interface ServerLimits {
  /** The whole request (headers and body) must arrive within this, in ms; 408 REQUEST_TIMEOUT after. */
  requestTimeoutMs: number;
  /** The headers must arrive within this, in ms (at most requestTimeoutMs). */
  headersTimeoutMs: number;
  /** An idle kept-alive connection is closed after this, in ms. */
  keepAliveTimeoutMs: number;
  /** A connection with no bytes either way for this long is closed, in ms. */
  idleTimeoutMs: number;
  /** Connections held at once; more are closed as they arrive. */
  maxConnections: number;
}

const ms = (fallback: number) => z.coerce.number().int().min(1).max(3_600_000).default(fallback);

/** The env variables of ServerLimits, with an app's defaults: spread into the app's env schema. */
export function serverLimitsEnv(defaults: ServerLimits) {
  return {
    REQUEST_TIMEOUT_MS: ms(defaults.requestTimeoutMs),
    HEADERS_TIMEOUT_MS: ms(defaults.headersTimeoutMs),
    KEEP_ALIVE_TIMEOUT_MS: ms(defaults.keepAliveTimeoutMs),
    IDLE_TIMEOUT_MS: ms(defaults.idleTimeoutMs),
    MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(defaults.maxConnections),
  };
}

export function serverLimitsOf(env: {
  REQUEST_TIMEOUT_MS: number;
  HEADERS_TIMEOUT_MS: number;
  KEEP_ALIVE_TIMEOUT_MS: number;
  IDLE_TIMEOUT_MS: number;
  MAX_CONNECTIONS: number;
}): ServerLimits {
  return {
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    // Node refuses a headers timeout above the request timeout; the request timeout covers it then.
    headersTimeoutMs: Math.min(env.HEADERS_TIMEOUT_MS, env.REQUEST_TIMEOUT_MS),
    keepAliveTimeoutMs: env.KEEP_ALIVE_TIMEOUT_MS,
    idleTimeoutMs: env.IDLE_TIMEOUT_MS,
    maxConnections: env.MAX_CONNECTIONS,
  };
}

/**
 * Answers a client error (a timeout, a malformed request) on the raw socket with one of our coded
 * bodies, then closes it — fastify's default handler sends no `code`.
 */
export function coded4xx(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'REQUEST_TIMEOUT', 'the request did not arrive within the timeout']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'BAD_REQUEST', 'the request headers are too large']
        : [400, 'BAD_REQUEST', 'malformed HTTP request'];
  const body = JSON.stringify({ code, message });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * The fastify options for these limits. Node checks request and header deadlines on a timer
 * (`connectionsCheckingInterval`, default 30 s): it runs often enough here that a cut lands within a
 * fraction of the timeout, not 30 s late.
 */
export function serverLimitOptions(limits: ServerLimits) {
  return {
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 5))),
    },
    clientErrorHandler: coded4xx,
  };
}
