import type { ServerResponse } from 'node:http';
import { sendError } from './http-io.ts';
import type { SimContext } from './sim-context.ts';
import type { FaultKind, SimFaults } from './sim-options.ts';
import type { SimCounters } from './stats.ts';

/** Rolls one fault and counts it when it fires. */
export function rollFault(faults: SimFaults, kind: FaultKind, counters: SimCounters): boolean {
  const probability = faults[kind];
  if (probability <= 0) return false;
  const fired = probability >= 1 || Math.random() < probability;
  if (fired) counters.faultsInjected[kind] += 1;
  return fired;
}

export interface InjectedError {
  status: number;
  code: string;
  message: string;
}

const SERVER_ERRORS: readonly InjectedError[] = [
  { status: 500, code: 'INTERNAL_ERROR', message: 'Internal server error (simulated)' },
  { status: 502, code: 'BAD_GATEWAY', message: 'Upstream returned an invalid response (simulated)' },
  { status: 503, code: 'SERVICE_UNAVAILABLE', message: 'Service temporarily unavailable (simulated)' },
];

/** One of the 5xx answers a gateway or the API itself gives, picked at random. */
export function randomServerError(): InjectedError {
  return SERVER_ERRORS[Math.floor(Math.random() * SERVER_ERRORS.length)];
}

export function sendInjectedRateLimit(ctx: SimContext, response: ServerResponse): void {
  const headers = ctx.config.retryAfter ? { 'retry-after': '1' } : {};
  sendError(response, 429, 'RATE_LIMITED', 'Rate limit exceeded: too many requests (simulated)', null, headers);
}

export function sendInjectedServerError(response: ServerResponse): void {
  const injected = randomServerError();
  sendError(response, injected.status, injected.code, injected.message);
}
