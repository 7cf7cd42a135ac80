import { FAULT_KINDS, type FaultKind } from './sim-options.ts';

/** Counters since start. Cheap to keep: every field is a number or a small map. */
export interface SimStats {
  /** POSTs to a create-run path, whatever they were answered. */
  createRequests: number;
  runsCreated: number;
  /** GETs of /v1/runs/{id}, whatever they were answered. */
  getRequests: number;
  /** GETs of /v1/runs (the search), whatever they were answered. */
  searchRequests: number;
  /** Responses of /v1 routes by HTTP status ("201": 12). A reset socket has no status and is not here. */
  responsesByStatus: Record<string, number>;
  faultsInjected: Record<FaultKind, number>;
  /** 429s from the rate limit itself (injected 429s count under faultsInjected). */
  rateLimited: number;
  /** Creates refused 429 because the model was at its concurrency cap (reject mode). */
  capRejected: number;
  /** Runs accepted over their model's concurrency cap that waited `queued` for a slot (queue mode). */
  capQueued: number;
  /** Creates refused 402 INSUFFICIENT_CREDIT because the balance was spent. */
  insufficientCredit: number;
  /** GETs of /v1/billing/balance, whatever they were answered. */
  balanceRequests: number;
  /** Copies of callbacks that got a 2xx. */
  callbacksDelivered: number;
  /** Every POST attempt to a callback URL, retries included. */
  callbackAttempts: number;
  /** Copies given up on after the last attempt. */
  callbacksFailed: number;
  callbacksDropped: number;
  /** Extra copies sent by the duplicate and out-of-order faults. */
  callbacksDuplicated: number;
  /** Runs not yet terminal. */
  inFlight: number;
}

export type SimCounters = Omit<SimStats, 'inFlight'>;

export function emptyCounters(): SimCounters {
  const faultsInjected = {} as Record<FaultKind, number>;
  for (const kind of FAULT_KINDS) faultsInjected[kind] = 0;
  return {
    createRequests: 0,
    runsCreated: 0,
    getRequests: 0,
    searchRequests: 0,
    responsesByStatus: {},
    faultsInjected,
    rateLimited: 0,
    capRejected: 0,
    capQueued: 0,
    insufficientCredit: 0,
    balanceRequests: 0,
    callbacksDelivered: 0,
    callbackAttempts: 0,
    callbacksFailed: 0,
    callbacksDropped: 0,
    callbacksDuplicated: 0,
  };
}

export function countResponse(counters: SimCounters, status: number): void {
  const key = String(status);
  counters.responsesByStatus[key] = (counters.responsesByStatus[key] ?? 0) + 1;
}

export function snapshotStats(counters: SimCounters, inFlight: number): SimStats {
  return {
    ...counters,
    responsesByStatus: { ...counters.responsesByStatus },
    faultsInjected: { ...counters.faultsInjected },
    inFlight,
  };
}
