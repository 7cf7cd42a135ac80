import { type ParseArgsConfig, parseArgs } from 'node:util';
import { createProducer, type EditProducer } from '@runflow-queue/producer';
import { loadWorkloadsFile } from '@runflow-queue/runtime';
import type { WorkloadsConfig } from '@runflow-queue/shared';
import { DEFAULT_PREFIX } from '@runflow-queue/store';

/** A usage or input error: printed without a stack, exit code 2 (usage) or 1 (input). */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export type Env = Record<string, string | undefined>;

/** Options every command that talks to Redis takes. */
export function connectionOptions(env: Env) {
  return {
    redis: { type: 'string', default: env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    prefix: { type: 'string', default: env.REDIS_PREFIX ?? DEFAULT_PREFIX },
    queue: { type: 'string', default: defaultQueue(env) },
    help: { type: 'boolean', short: 'h', default: false },
  } as const;
}

export const CONNECTION_HELP = (env: Env) => `  --redis URL      Redis (default: $REDIS_URL or redis://127.0.0.1:6379)
  --prefix P       key prefix (default: $REDIS_PREFIX or ${DEFAULT_PREFIX})
  --queue NAME     the queue (default: the first of $QUEUES, else edits; now: ${defaultQueue(env)})
  -h, --help       this help`;

function defaultQueue(env: Env): string {
  return (env.QUEUES ?? 'edits').split(',')[0].trim() || 'edits';
}

/** parseArgs with errors a person can act on ("unknown option --x: see runflow-queue enqueue --help"). */
export function parseCommandArgs<T extends ParseArgsConfig['options']>(command: string, args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliError(`${(error as Error).message}; see: runflow-queue ${command} --help`);
  }
}

function flag(value: string | undefined): boolean {
  return value === 'true' || value === '1';
}

/** The producer the CLI uses; the notifyUrl policy follows the same env switches as the API and workers. */
export function openProducer(values: { redis: string; prefix: string }, env: Env): EditProducer {
  return createProducer({
    redis: values.redis,
    prefix: values.prefix,
    notifyUrlPolicy: {
      allowHttpLoopback: flag(env.NOTIFY_ALLOW_HTTP_LOOPBACK),
      allowPrivateNetworks: flag(env.NOTIFY_ALLOW_PRIVATE_NETWORKS),
    },
  });
}

/** The workloads file a --workloads flag names, validated; a CliError naming the problem otherwise. */
export function loadWorkloadsFlag(path: string | undefined): WorkloadsConfig | undefined {
  if (!path) return undefined;
  try {
    return loadWorkloadsFile(path);
  } catch (error) {
    throw new CliError(`${(error as Error).message}; fix the file or drop --workloads`, 1);
  }
}

/** A whole number flag, or a CliError naming the flag, the value and an example. */
export function intFlag(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new CliError(
      `--${name} ${JSON.stringify(value)}: must be a whole number ≥ ${min}, e.g. --${name} ${Math.max(min, 2)}`,
    );
  }
  return n;
}

/** Redis errors say which Redis and what to check. */
export function redisHint(error: unknown, url: string): CliError | undefined {
  const message = (error as Error)?.message ?? '';
  if (/ECONNREFUSED|ENOTFOUND|ETIMEDOUT|Connection is closed|Command timed out|max retries|EAI_AGAIN/i.test(message)) {
    return new CliError(`could not reach Redis at ${url} (${message}); check --redis or REDIS_URL`, 1);
  }
  return undefined;
}
