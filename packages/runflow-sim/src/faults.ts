import type { ServerResponse } from 'node:http';
import { sendError } from './http-io.ts';
import type { SimContext } from './sim-context.ts';
import type { FaultKind, SimFaults } from './sim-options.ts';
import type { SimCounters } from './stats.ts';

/** Where one fault kind is in its sequence of opportunities (see rollFault). */
interface Stratum {
  probability: number;
  /** Opportunities seen since the probability was set. */
  seen: number;
  /** Start of the current block of 1/probability opportunities, and where in it the fault falls. */
  blockStart: number;
  fireAt: number;
}

/** Per simulator (its counters object), per fault kind. */
const strata = new WeakMap<SimCounters, Map<FaultKind, Stratum>>();

/**
 * Rolls one fault and counts it when it fires. Stratified, not independent: every block of
 * 1/probability opportunities gets exactly one fault, at a random place in the block. The rate is
 * the configured one and the places are random, but the count after n opportunities is within one of
 * n × probability — so a run long enough to meet a fault kind a few times always does (independent
 * draws at 3 % leave 100 opportunities fault-free one time in 21). Probability 0 never fires, 1
 * always; a new probability starts a new sequence.
 */
export function rollFault(faults: SimFaults, kind: FaultKind, counters: SimCounters): boolean {
  const probability = faults[kind];
  if (probability <= 0) return false;
  const fired = probability >= 1 || nextInStratum(counters, kind, probability);
  if (fired) counters.faultsInjected[kind] += 1;
  return fired;
}

function nextInStratum(counters: SimCounters, kind: FaultKind, probability: number): boolean {
  let kinds = strata.get(counters);
  if (!kinds) {
    kinds = new Map();
    strata.set(counters, kinds);
  }
  const blockLength = 1 / probability;
  let stratum = kinds.get(kind);
  if (!stratum || stratum.probability !== probability) {
    stratum = { probability, seen: 0, blockStart: 0, fireAt: Math.random() * blockLength };
    kinds.set(kind, stratum);
  }
  const index = stratum.seen;
  stratum.seen += 1;
  if (index < stratum.fireAt) return false;
  stratum.blockStart += blockLength;
  stratum.fireAt = stratum.blockStart + Math.random() * blockLength;
  return true;
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
