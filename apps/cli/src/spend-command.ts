import { renderSpend } from '@runflow-queue/stats';
import { createRedis, SpendLedger } from '@runflow-queue/store';
import { CliError, CONNECTION_HELP, connectionOptions, type Env, parseCommandArgs } from './cli-context.ts';

export const SPEND_HELP = (
  env: Env,
) => `runflow-queue spend — the spend ledger per queue / day / model / cost center (exact, µUSD)

Usage: runflow-queue spend [--queue NAME …] [--json]

  --queue NAME     only this queue (repeatable; default: every queue)
  --json           print JSON instead of a table
${CONNECTION_HELP(env).replace(/ {2}--queue NAME.*\n/, '')}`;

export async function spendCommand(
  args: string[],
  env: Env,
  io: { stdout: { write(chunk: string): boolean } },
): Promise<number> {
  const { queue: _queue, ...connection } = connectionOptions(env);
  const { values } = parseCommandArgs('spend', args, {
    ...connection,
    queue: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
  });
  if (values.help) {
    io.stdout.write(`${SPEND_HELP(env)}\n`);
    return 0;
  }
  const redis = createRedis(values.redis, { maxRetriesPerRequest: 1, connectTimeout: 3_000 });
  redis.on('error', () => {});
  try {
    const ledger = new SpendLedger(redis, { prefix: values.prefix });
    const rows = await ledger.rows(values.queue);
    io.stdout.write(`${values.json ? JSON.stringify(rows, null, 2) : renderSpend(rows)}\n`);
    return 0;
  } catch (error) {
    throw new CliError(`could not read the ledger from ${values.redis}: ${(error as Error).message}; check --redis`, 1);
  } finally {
    redis.disconnect();
  }
}
