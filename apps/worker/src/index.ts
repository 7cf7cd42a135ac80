export { type EditWorkers, type EditWorkersOptions, startEditWorkers } from './edit-workers.ts';
export { parseEnv, WorkerEnv } from './env.ts';
export { backoffMs, DEFAULT_LIFECYCLE, type LifecycleConfig } from './lifecycle-config.ts';
export type { EditJob, LifecycleHooks } from './park-job.ts';
export { redactPaths } from './redact.ts';
export type { Governance } from './step-context.ts';
