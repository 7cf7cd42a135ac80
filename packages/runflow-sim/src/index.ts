export type { BillingEntry, SimBilling } from './billing.ts';
export type { OutputFormat } from './images.ts';
export { OUTAGE_MODES, type OutageMode } from './outage.ts';
export type { CallbackBody, CallbackEvent, RunObject, SimRun } from './run-object.ts';
export type { SimDeliveryAttempt, SimStatus } from './run-store.ts';
export { signBody } from './sign-body.ts';
export type {
  CallbackRetryPolicy,
  CancelSpelling,
  CapMode,
  FaultKind,
  IdempotencyMode,
  LatencyRangeMs,
  OutputShape,
  SimFaults,
  SimOptions,
} from './sim-options.ts';
export type { SimPricing } from './sim-pricing.ts';
export { type Sim, type SimRuntimeConfig, startSim } from './start-sim.ts';
export type { SimStats } from './stats.ts';
