import { type AppProcess, spawnApp } from '@runflow-queue/runtime';
import type { Fleet } from './fleet.ts';

/** Starts apps/worker as a real process against the fleet; its output is kept for assertions. */
export function spawnWorker(fleet: Fleet, env: Record<string, string> = {}): AppProcess {
  return spawnApp('worker', {
    REDIS_URL: fleet.redisUrl,
    REDIS_PREFIX: fleet.prefix,
    RUNFLOW_BASE_URL: fleet.sim.url,
    RUNFLOW_API_KEY: fleet.sim.apiKey,
    CALLBACK_URL: fleet.callbackUrl,
    QUEUES: fleet.queues.join(','),
    LOG_LEVEL: 'info',
    ...env,
  });
}
