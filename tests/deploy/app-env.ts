import { readFileSync } from 'node:fs';
import { IngestEnv } from '@runflow-queue/callback-ingest';
import { WorkerEnv } from '@runflow-queue/worker';

// The environment variable names each app reads, from the app's own schema, so a deployment file that
// sets a name no app reads (a typo, a renamed variable) fails a test instead of being ignored at boot.

export type AppName = 'worker' | 'callback-ingest' | 'dashboard' | 'api' | 'runflow-sim';

export interface AppEnv {
  names: Set<string>;
  /** `schema`: the app's exported zod schema. `documented`: the app has none yet; the agreed names. */
  source: 'schema' | 'documented' | 'parser';
  /** The app's own validation of a whole environment, when it has a schema. */
  validate?: (env: Record<string, string>) => { success: boolean; error?: unknown };
}

interface EnvSchema {
  shape: Record<string, unknown>;
  safeParse(env: Record<string, string>): { success: boolean; error?: unknown };
}

/** The variables each of these apps documents (their env schemas are not exported by the apps). */
const DOCUMENTED: Record<'dashboard' | 'api', string[]> = {
  dashboard: ['REDIS_URL', 'REDIS_PREFIX', 'QUEUES', 'DASHBOARD_USER', 'DASHBOARD_PASSWORD'],
  api: ['REDIS_URL', 'REDIS_PREFIX', 'QUEUES', 'API_TOKENS'],
};

/** Where each app's process starts: what compose and the k8s manifests must run. */
export const APP_MAIN: Record<AppName, string> = {
  worker: 'apps/worker/src/main.ts',
  'callback-ingest': 'apps/callback-ingest/src/main.ts',
  dashboard: 'apps/dashboard/src/main.ts',
  api: 'apps/api/src/main.ts',
  'runflow-sim': 'packages/runflow-sim/src/main.ts',
};

export function appOfCommand(command: readonly string[]): AppName | undefined {
  const main = command.find((part) => part.endsWith('/main.ts'));
  return (Object.keys(APP_MAIN) as AppName[]).find((app) => APP_MAIN[app] === main);
}

function isEnvSchema(value: unknown): value is EnvSchema {
  return (
    typeof value === 'object' &&
    value !== null &&
    'shape' in value &&
    typeof value.shape === 'object' &&
    'safeParse' in value &&
    typeof value.safeParse === 'function'
  );
}

/** The first exported zod object named `…Env` of a package, if it has one. */
async function exportedEnvSchema(pkg: string): Promise<EnvSchema | undefined> {
  const module = (await import(pkg)) as Record<string, unknown>;
  const found = Object.entries(module).find(([name, value]) => /Env$/.test(name) && isEnvSchema(value));
  return found?.[1] as EnvSchema | undefined;
}

/** Read by Node itself, not by the app: allowed for every app (e.g. the worker's heap limit). */
const RUNTIME_ENV = ['NODE_OPTIONS'];

function fromSchema(schema: EnvSchema): AppEnv {
  return {
    names: new Set([...Object.keys(schema.shape), ...RUNTIME_ENV]),
    source: 'schema',
    validate: (env) => schema.safeParse(env),
  };
}

/** The simulator checks its variables by hand (no zod): every `env.SIM_*` its parser reads. */
function simEnvNames(): string[] {
  const source = readFileSync(new URL('../../packages/runflow-sim/src/env.ts', import.meta.url), 'utf8');
  return [...new Set([...source.matchAll(/\benv\.(SIM_[A-Z0-9_]+)/g)].map((match) => match[1]))];
}

export async function appEnv(app: AppName): Promise<AppEnv> {
  switch (app) {
    case 'worker':
      return fromSchema(WorkerEnv);
    case 'callback-ingest':
      return fromSchema(IngestEnv);
    case 'runflow-sim':
      return { names: new Set(simEnvNames()), source: 'parser' };
    case 'dashboard':
    case 'api': {
      const schema = await exportedEnvSchema(`@runflow-queue/${app}`);
      return schema ? fromSchema(schema) : { names: new Set(DOCUMENTED[app]), source: 'documented' };
    }
  }
}

/** Defaults of the worker settings the deployment files reason about (shutdown vs request timeout). */
export function workerDefaults(): { shutdownGraceMs: number; runflowTimeoutMs: number } {
  const env = WorkerEnv.parse({ RUNFLOW_API_KEY: 'x' });
  return { shutdownGraceMs: env.SHUTDOWN_GRACE_MS, runflowTimeoutMs: env.RUNFLOW_TIMEOUT_MS };
}
