import type { RunflowEndpoint, RunflowErrorKind } from './runflow-api-error.ts';

/** The pino-compatible subset the client logs through. It never receives the API key or request headers. */
export interface RunflowClientLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** One HTTP attempt, reported to `onRequest` for metrics. */
export interface RequestInfo {
  endpoint: RunflowEndpoint;
  /** Undefined when no response headers arrived. */
  status: number | undefined;
  outcome: 'ok' | RunflowErrorKind;
  durationMs: number;
  /** The RunflowApiError code when the attempt failed. */
  code?: string;
}

export interface RunflowClientOptions {
  /** e.g. https://api.runflow.io, or a path-prefixed base such as http://host:port/runflow. */
  baseUrl: string;
  apiKey: string;
  /** Pool size (sockets) for the one origin. Default 64. */
  connections?: number;
  /** Default 5_000. */
  connectTimeoutMs?: number;
  /** Time to wait for response headers once the request is written. Default 30_000 (the official SDK's 30 s). */
  headersTimeoutMs?: number;
  /** Longest gap between body chunks. Default 30_000. */
  bodyTimeoutMs?: number;
  /** Idle keep-alive socket lifetime; a shorter `Keep-Alive: timeout=` hint from the server wins. Default 60_000. */
  keepAliveTimeoutMs?: number;
  /** Default 'runflow-queue/0.1'. */
  userAgent?: string;
  logger?: RunflowClientLogger;
  /** Called once per HTTP attempt; exceptions it throws are logged and swallowed. */
  onRequest?: (info: RequestInfo) => void;
}

export const DEFAULT_CONNECTIONS = 64;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_HEADERS_TIMEOUT_MS = 30_000;
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 60_000;
export const DEFAULT_USER_AGENT = 'runflow-queue/0.1';
/** A run object is a few KB; sync_mode data URIs can be large. Past this the response is refused. */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** The origin undici connects to and the path prefix every request path starts with. */
export interface ParsedBaseUrl {
  origin: string;
  pathPrefix: string;
}

/** Throws a TypeError naming the problem; the base URL is config, so it fails at boot, not per request. */
export function parseBaseUrl(baseUrl: string): ParsedBaseUrl {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`runflow-client: baseUrl is not an absolute URL: ${JSON.stringify(baseUrl)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`runflow-client: baseUrl must be http(s), got ${url.protocol}`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new TypeError('runflow-client: baseUrl must not carry a query, fragment or credentials');
  }
  return { origin: url.origin, pathPrefix: url.pathname.replace(/\/+$/, '') };
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new TypeError(`runflow-client: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

export interface ResolvedOptions {
  connections: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  keepAliveTimeoutMs: number;
  userAgent: string;
}

export function resolveOptions(options: RunflowClientOptions): ResolvedOptions {
  if (typeof options.apiKey !== 'string' || options.apiKey.trim() === '') {
    throw new TypeError('runflow-client: apiKey is required');
  }
  return {
    connections: positiveInteger('connections', options.connections, DEFAULT_CONNECTIONS),
    connectTimeoutMs: positiveInteger('connectTimeoutMs', options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS),
    headersTimeoutMs: positiveInteger('headersTimeoutMs', options.headersTimeoutMs, DEFAULT_HEADERS_TIMEOUT_MS),
    bodyTimeoutMs: positiveInteger('bodyTimeoutMs', options.bodyTimeoutMs, DEFAULT_BODY_TIMEOUT_MS),
    keepAliveTimeoutMs: positiveInteger(
      'keepAliveTimeoutMs',
      options.keepAliveTimeoutMs,
      DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    ),
    userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
  };
}
