import type { BillingLedger } from './billing.ts';
import type { CallbackDispatcher } from './callbacks.ts';
import type { ConcurrencyGate } from './concurrency-gate.ts';
import type { RunLifecycle } from './lifecycle.ts';
import type { TokenBucket } from './rate-limit.ts';
import type { RunStore } from './run-store.ts';
import type { SimConfig } from './sim-options.ts';
import type { SimCounters } from './stats.ts';

/** What the route handlers share. `config` and `rateLimiter` change at runtime through Sim methods. */
export interface SimContext {
  config: SimConfig;
  store: RunStore;
  billing: BillingLedger;
  counters: SimCounters;
  /** When each metered request (create or get) arrived, epoch ms: what a rate-limit check counts. */
  requestLog: RequestLog;
  callbacks: CallbackDispatcher;
  lifecycle: RunLifecycle;
  /** Per-model concurrency caps: who holds a slot, who waits for one. */
  gate: ConcurrencyGate;
  rateLimiter: TokenBucket | null;
  /** Base of output URLs (the server's own address unless `publicUrl` was given). */
  publicUrl: () => string;
}

/** Arrival times of metered requests; bounded (the oldest half is dropped past `maxEntries`). */
export class RequestLog {
  readonly #maxEntries: number;
  #times: number[] = [];

  constructor(maxEntries = 1_000_000) {
    this.#maxEntries = maxEntries;
  }

  record(at: number): void {
    if (this.#times.length >= this.#maxEntries) this.#times = this.#times.slice(this.#maxEntries / 2);
    this.#times.push(at);
  }

  snapshot(): number[] {
    return [...this.#times];
  }

  clear(): void {
    this.#times = [];
  }
}
