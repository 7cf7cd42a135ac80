import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Fleet } from './fleet.ts';

const WORKER_MAIN = fileURLToPath(new URL('../../apps/worker/src/main.ts', import.meta.url));

/** Starts apps/worker as a real process against the fleet; its logs are kept for assertions. */
export function spawnWorker(fleet: Fleet, env: Record<string, string> = {}): ChildProcess & { logs: string[] } {
  const child = spawn(process.execPath, [WORKER_MAIN], {
    env: {
      PATH: process.env.PATH,
      REDIS_URL: fleet.redisUrl,
      REDIS_PREFIX: fleet.prefix,
      RUNFLOW_BASE_URL: fleet.sim.url,
      RUNFLOW_API_KEY: fleet.sim.apiKey,
      CALLBACK_URL: fleet.callbackUrl,
      QUEUES: fleet.queues.join(','),
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as ChildProcess & { logs: string[] };
  child.logs = [];
  child.stdout?.on('data', (chunk: Buffer) => child.logs.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => child.logs.push(chunk.toString()));
  return child;
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}
