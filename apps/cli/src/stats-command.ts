import { collectStats, renderStats } from '@runflow-queue/stats';
import { createRedis } from '@runflow-queue/store';
import {
  CliError,
  CONNECTION_HELP,
  connectionOptions,
  type Env,
  loadWorkloadsFlag,
  parseCommandArgs,
} from './cli-context.ts';

export const STATS_HELP = (
  env: Env,
) => `runflow-queue stats — per queue: depth, throughput, run times, spend against budget, callbacks vs polls

Usage: runflow-queue stats [--queue NAME …] [--workloads FILE] [--json]

  --queue NAME       only this queue (repeatable; default: every queue that has run jobs)
  --workloads FILE   the workers' workloads file, for budgets and in-flight caps (default: $WORKLOADS_FILE)
  --json             print the JSON the dashboard serves at /api/stats
${CONNECTION_HELP(env).replace(/ {2}--queue NAME.*\n/, '')}`;

export async function statsCommand(
  args: string[],
  env: Env,
  io: { stdout: { write(chunk: string): boolean } },
): Promise<number> {
  const { queue: _queue, ...connection } = connectionOptions(env);
  const { values } = parseCommandArgs('stats', args, {
    ...connection,
    queue: { type: 'string', multiple: true },
    workloads: { type: 'string', default: env.WORKLOADS_FILE },
    json: { type: 'boolean', default: false },
  });
  if (values.help) {
    io.stdout.write(`${STATS_HELP(env)}\n`);
    return 0;
  }
  const workloads = loadWorkloadsFlag(values.workloads);
  const redis = createRedis(values.redis, { maxRetriesPerRequest: 1, connectTimeout: 3_000 });
  redis.on('error', () => {});
  try {
    const stats = await collectStats(redis, { prefix: values.prefix, queues: values.queue, workloads });
    io.stdout.write(`${values.json ? JSON.stringify(stats, null, 2) : renderStats(stats)}\n`);
    return 0;
  } catch (error) {
    throw new CliError(`could not read stats from ${values.redis}: ${(error as Error).message}; check --redis`, 1);
  } finally {
    redis.disconnect();
  }
}
