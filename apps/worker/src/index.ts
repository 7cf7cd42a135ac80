// What tests and the benchmarks use of the worker app (the app itself runs from main.ts).
export { type EditWorkers, type EditWorkersOptions, startEditWorkers } from './edit-workers.ts';
export { parseEnv, WorkerEnv } from './env.ts';
export { DEFAULT_HOLDS_CONFIG, type HoldsConfig } from './holds-monitor.ts';
export { DEFAULT_LIFECYCLE, type LifecycleConfig } from './lifecycle-config.ts';
export type { LifecycleHooks } from './park-job.ts';
export { type ReconcilerOptions, type ReconcileTick, SpendReconciler } from './spend-reconciler.ts';
