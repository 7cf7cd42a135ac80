export { type AppRuntime, type BootOptions, bootApp } from './boot-app.ts';
export { envFields, flag, list, ms, queueNames } from './env-fields.ts';
export {
  type AppExit,
  type AppName,
  type AppProcess,
  type SpawnAppOptions,
  spawnApp,
  spawnScript,
} from './spawn-app.ts';
export { loadWorkloadsFile, parseWorkloads, workloadsFromQueues } from './workloads-file.ts';
