import { readAccountHealth, renderHealth } from '@runflow-queue/stats';
import { createRedis } from '@runflow-queue/store';
import { ACCOUNT_HELP, accountKeyOf } from './account-key.ts';
import { CliError, CONNECTION_HELP, connectionOptions, type Env, parseCommandArgs } from './cli-context.ts';

export const HEALTH_HELP = (env: Env) => `runflow-queue health — what holds the account's submits, and why

Usage: runflow-queue health [--json]

Prints the Runflow breaker, the credit hold, operators' pauses, the rate governor's factor, learned
per-model caps and Redis — each with its state, reason and since when. Exits 0 when nothing holds
submits, 3 when something does.

  --json           print JSON instead of a table
${ACCOUNT_HELP}
${CONNECTION_HELP(env).replace(/ {2}--queue NAME.*\n/, '')}`;

/** Something holds submits: a script can tell without parsing. */
export const EXIT_HELD = 3;

export async function healthCommand(
  args: string[],
  env: Env,
  io: { stdout: { write(chunk: string): boolean } },
): Promise<number> {
  const { queue: _queue, ...connection } = connectionOptions(env);
  const { values } = parseCommandArgs('health', args, {
    ...connection,
    account: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (values.help) {
    io.stdout.write(`${HEALTH_HELP(env)}\n`);
    return 0;
  }
  const accountKey = accountKeyOf(values.account, env, 'health');
  const redis = createRedis(values.redis, { maxRetriesPerRequest: 1, connectTimeout: 3_000 });
  redis.on('error', () => {});
  try {
    const health = await readAccountHealth(redis, { prefix: values.prefix, accountKey }).catch((error: unknown) => {
      throw new CliError(
        `could not read the account's health from ${values.redis}: ${(error as Error).message}; check --redis`,
        1,
      );
    });
    io.stdout.write(`${values.json ? JSON.stringify(health, null, 2) : renderHealth(health)}\n`);
    const { breaker, credit, pauses } = health.holds;
    return breaker.open || credit.held || pauses.length > 0 || !health.redis.writable ? EXIT_HELD : 0;
  } finally {
    redis.disconnect();
  }
}
