import { renderSpend } from '@runflow-queue/stats';
import { createRedis, SpendLedger } from '@runflow-queue/store';
import { CliError, CONNECTION_HELP, connectionOptions, type Env, parseCommandArgs } from './cli-context.ts';
import { spendExportCommand } from './spend-export-command.ts';
import { spendReconcileCommand } from './spend-reconcile-command.ts';

export const SPEND_HELP = (
  env: Env,
) => `runflow-queue spend — the spend ledger per queue / day / model / cost center (exact, µUSD)

Usage: runflow-queue spend [--queue NAME …] [--json]
       runflow-queue spend export --from DAY --to DAY [--format csv|jsonl] [--out FILE]   (see spend export --help)
       runflow-queue spend reconcile --since TIME                                       (see spend reconcile --help)

Spend is what the ledger books: the price table's estimate for a run until the reconciler confirms it
against Runflow's own record, then Runflow's cost (the difference is an adjustment).

  --queue NAME     only this queue (repeatable; default: every queue)
  --json           print JSON instead of a table
${CONNECTION_HELP(env).replace(/ {2}--queue NAME.*\n/, '')}`;

export interface CliIo {
  stdout: { write(chunk: string): boolean };
  stderr?: { write(chunk: string): boolean };
}

export async function spendCommand(args: string[], env: Env, io: CliIo): Promise<number> {
  if (args[0] === 'export') return spendExportCommand(args.slice(1), env, io);
  if (args[0] === 'reconcile') return spendReconcileCommand(args.slice(1), env, io);
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
    const [rows, unconfirmed] = await Promise.all([ledger.rows(values.queue), ledger.unconfirmedSummary()]);
    io.stdout.write(`${values.json ? JSON.stringify(rows, null, 2) : renderSpend(rows, unconfirmed)}\n`);
    return 0;
  } catch (error) {
    throw new CliError(`could not read the ledger from ${values.redis}: ${(error as Error).message}; check --redis`, 1);
  } finally {
    redis.disconnect();
  }
}
