#!/usr/bin/env node
import { CliError, redisHint } from './cli-context.ts';
import { enqueueCommand } from './enqueue-command.ts';
import { healthCommand } from './health-command.ts';
import { pauseCommand } from './pause-command.ts';
import { quoteCommand } from './quote-command.ts';
import { retryFailedCommand } from './retry-failed-command.ts';
import { spendCommand } from './spend-command.ts';
import { statsCommand } from './stats-command.ts';
import { statusCommand } from './status-command.ts';
import { waitCommand } from './wait-command.ts';

const HELP = `runflow-queue <command> [options]

Commands:
  enqueue        enqueue edits from flags or a JSONL file (--file); --wait for results and spend
  quote          what a JSONL file of edits would cost, whether the budget admits it, and an ETA
  status <id>    where one job is: state, step, run, result or failure
  wait <id>      wait for one job and print its result (outputs, cost, URL expiry)
  retry-failed   retry failed jobs (--code CODE to pick one failure), printing a table
  spend          the spend ledger per queue / day / model / cost center (exact, µUSD);
                 spend export (per-run records, CSV / JSONL), spend reconcile (Runflow's balance vs the ledger)
  stats          per queue: depth, throughput, run times, spend against budget, callbacks vs polls
  pause          stop new submits of the account (or --queue Q); in-flight runs still finish
  resume         lift a pause
  health         the account's holds (breaker, credit, pauses), governor, learned caps and Redis

Run runflow-queue <command> --help for a command's options. Every command reads REDIS_URL and
REDIS_PREFIX (or --redis, --prefix); --queue defaults to the first of $QUEUES, else edits.`;

const io = { stdout: process.stdout, stderr: process.stderr };
const env = process.env;
const [command, ...args] = process.argv.slice(2);

async function run(): Promise<number> {
  switch (command) {
    case 'enqueue':
      return enqueueCommand(args, env, io);
    case 'quote':
      return quoteCommand(args, env, io);
    case 'status':
      return statusCommand(args, env, io);
    case 'wait':
      return waitCommand(args, env, io);
    case 'retry-failed':
      return retryFailedCommand(args, env, io);
    case 'spend':
      return spendCommand(args, env, io);
    case 'stats':
      return statsCommand(args, env, io);
    case 'pause':
    case 'resume':
      return pauseCommand(command, args, env, io);
    case 'health':
      return healthCommand(args, env, io);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(HELP);
      return command === undefined ? 2 : 0;
    default:
      console.error(`unknown command ${JSON.stringify(command)}; the commands are:\n\n${HELP}`);
      return 2;
  }
}

try {
  process.exitCode = await run();
} catch (error) {
  const hint = redisHint(error, (env.REDIS_URL as string | undefined) ?? 'redis://127.0.0.1:6379');
  const shown = error instanceof CliError ? error : hint;
  if (shown) {
    console.error(`runflow-queue ${command}: ${shown.message}`);
    process.exitCode = shown.exitCode;
  } else {
    console.error(`runflow-queue ${command}: ${(error as Error).stack ?? String(error)}`);
    process.exitCode = 1;
  }
}
