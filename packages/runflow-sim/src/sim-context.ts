import type { BillingLedger } from './billing.ts';
import type { CallbackDispatcher } from './callbacks.ts';
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
  callbacks: CallbackDispatcher;
  lifecycle: RunLifecycle;
  rateLimiter: TokenBucket | null;
  /** Base of output URLs (the server's own address unless `publicUrl` was given). */
  publicUrl: () => string;
}
