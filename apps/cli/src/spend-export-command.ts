import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { formatMicroUsd, formatTable } from '@runflow-queue/shared';
import { type ExportFormat, exportSpend } from '@runflow-queue/stats';
import { createRedis, SpendLedger, SpendRecords } from '@runflow-queue/store';
import { CliError, CONNECTION_HELP, connectionOptions, type Env, parseCommandArgs } from './cli-context.ts';
import type { CliIo } from './spend-command.ts';

export const SPEND_EXPORT_HELP = (
  env: Env,
) => `runflow-queue spend export — one line per settled run: what we paid for which job

Usage: runflow-queue spend export --from DAY --to DAY [--format csv|jsonl] [--queue NAME …] [--out FILE]

Streams the per-run spend records of the runs that billed on those UTC days (inclusive) to stdout (or
--out), progress on stderr, then a summary on stderr: runs, the export's total and the ledger's total
for the same days and queues (equal to the micro-dollar, else exit 1). Columns: run_id, job_id, queue,
model, cost_center, caller, day, outcome, images, estimated / confirmed / adjustment / booked (µUSD),
state (estimated | confirmed | table), path (callback | poll | orphan | waste | healed), settled_at.
Records are kept 8 days after their day: export each day well within that.

  --from DAY       first UTC day, YYYY-MM-DD (e.g. 2026-12-01)
  --to DAY         last UTC day, YYYY-MM-DD (default: --from)
  --format F       csv (default) or jsonl
  --queue NAME     only this queue (repeatable; default: every queue)
  --out FILE       write there instead of stdout
${CONNECTION_HELP(env).replace(/ {2}--queue NAME.*\n/, '')}`;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function dayFlag(name: string, value: string | undefined): string {
  if (value === undefined || !DAY.test(value) || !Number.isFinite(Date.parse(`${value}T00:00:00Z`))) {
    throw new CliError(`--${name} ${JSON.stringify(value ?? '')}: a UTC day is needed, e.g. --${name} 2026-12-01`);
  }
  return value;
}

export async function spendExportCommand(args: string[], env: Env, io: CliIo): Promise<number> {
  const { queue: _queue, ...connection } = connectionOptions(env);
  const { values } = parseCommandArgs('spend export', args, {
    ...connection,
    queue: { type: 'string', multiple: true },
    from: { type: 'string' },
    to: { type: 'string' },
    format: { type: 'string', default: 'csv' },
    out: { type: 'string' },
  });
  if (values.help) {
    io.stdout.write(`${SPEND_EXPORT_HELP(env)}\n`);
    return 0;
  }
  const fromDay = dayFlag('from', values.from);
  const toDay = values.to === undefined ? fromDay : dayFlag('to', values.to);
  if (fromDay > toDay) throw new CliError(`--from ${fromDay} is after --to ${toDay}: swap them`);
  if (values.format !== 'csv' && values.format !== 'jsonl') {
    throw new CliError(`--format ${JSON.stringify(values.format)}: csv or jsonl`);
  }
  const format = values.format as ExportFormat;
  const stderr = io.stderr ?? process.stderr;
  const file = values.out ? createWriteStream(values.out) : undefined;
  const write = async (line: string) => {
    if (file) {
      if (!file.write(`${line}\n`)) await once(file, 'drain');
    } else io.stdout.write(`${line}\n`);
  };
  const redis = createRedis(values.redis, { maxRetriesPerRequest: 1, connectTimeout: 3_000 });
  redis.on('error', () => {});
  try {
    const summary = await exportSpend(
      {
        records: new SpendRecords(redis, { prefix: values.prefix }),
        ledger: new SpendLedger(redis, { prefix: values.prefix }),
      },
      { fromDay, toDay, queues: values.queue },
      format,
      write,
      (written) => stderr.write(`spend export: ${written} runs written\r`),
    );
    if (file) {
      file.end();
      await once(file, 'finish');
    }
    stderr.write(
      `\n${formatTable(
        [
          'window (UTC days)',
          'runs',
          'export total',
          'ledger total',
          'estimated',
          'confirmed',
          'adjustments',
          'unconfirmed runs',
          'equal',
        ],
        [
          [
            `${fromDay} … ${toDay}`,
            summary.runs,
            `${formatMicroUsd(summary.exportTotalMicroUsd)} (${summary.exportTotalMicroUsd} µUSD)`,
            `${formatMicroUsd(summary.ledgerMicroUsd)} (${summary.ledgerMicroUsd} µUSD)`,
            formatMicroUsd(summary.estimatedMicroUsd),
            formatMicroUsd(summary.confirmedMicroUsd),
            formatMicroUsd(summary.adjustmentsMicroUsd),
            summary.unconfirmedRuns,
            summary.equal ? 'yes' : 'NO',
          ],
        ],
        ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
      )}\n`,
    );
    if (!summary.equal) {
      stderr.write(
        'spend export: the export does not add up to the ledger for this window (records expired, or rows written before per-run records existed)\n',
      );
    }
    return summary.equal ? 0 : 1;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`could not export from ${values.redis}: ${(error as Error).message}; check --redis`, 1);
  } finally {
    redis.disconnect();
  }
}
