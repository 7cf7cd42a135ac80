#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createRedis, DEFAULT_PREFIX, SpendLedger } from '@runflow-queue/store';
import { renderSpend } from './spend-table.ts';

const HELP = `runflow-queue <command> [options]

Commands:
  spend     print the spend ledger: per queue / day / model / cost center, in USD (exact, µUSD)

Options:
  --redis URL      Redis to read (default: $REDIS_URL or redis://127.0.0.1:6379)
  --prefix P       key prefix (default: $REDIS_PREFIX or ${DEFAULT_PREFIX})
  --queue NAME     only this queue (repeatable)
  --json           print JSON instead of a table
  -h, --help       this help`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    prefix: { type: 'string', default: process.env.REDIS_PREFIX ?? DEFAULT_PREFIX },
    queue: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const command = positionals[0];
if (values.help || !command) {
  console.log(HELP);
  process.exit(command || values.help ? 0 : 2);
}
if (command !== 'spend') {
  console.error(`unknown command ${JSON.stringify(command)}; run with --help for the list`);
  process.exit(2);
}

const redis = createRedis(values.redis, { maxRetriesPerRequest: 1, connectTimeout: 3_000 });
redis.on('error', () => {});
try {
  const ledger = new SpendLedger(redis, { prefix: values.prefix });
  const rows = await ledger.rows(values.queue);
  console.log(values.json ? JSON.stringify(rows, null, 2) : renderSpend(rows));
} catch (error) {
  console.error(`could not read the ledger from ${values.redis}: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  redis.disconnect();
}
