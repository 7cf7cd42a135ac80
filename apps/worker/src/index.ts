export { type EditWorkers, type EditWorkersOptions, startEditWorkers } from './edit-workers.ts';
export { parseEnv, WorkerEnv } from './env.ts';
export type { EditJob, Governance, LifecycleHooks } from './job-context.ts';
export { backoffMs, DEFAULT_LIFECYCLE, type LifecycleConfig } from './lifecycle-config.ts';
export { redactPaths } from './redact.ts';
export { loadWorkloadsFile, parseWorkloads, workloadsFromQueues } from './workloads.ts';
