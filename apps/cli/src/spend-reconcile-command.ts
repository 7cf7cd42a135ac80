import { createRunflowClient } from '@runflow-queue/runflow-client';
import { formatMicroUsd, formatTable } from '@runflow-queue/shared';
import {
  type BalanceSample,
  BalanceSamples,
  bookedMicroUsd,
  createRedis,
  type RedisClient,
  SpendLedger,
  SpendRecords,
} from '@runflow-queue/store';
import { CliError, CONNECTION_HELP, connectionOptions, type Env, parseCommandArgs } from './cli-context.ts';
import type { CliIo } from './spend-command.ts';

export const SPEND_RECONCILE_HELP = (
  env: Env,
) => `runflow-queue spend reconcile — Runflow's balance against the ledger over a window

Usage: runflow-queue spend reconcile --since TIME [--until TIME]

Compares how much Runflow's prepaid balance (GET /v1/billing/balance) went down over the window with
what the ledger books (Runflow's confirmed cost, else the estimate) for the runs settled in it, and
prints the difference. The start is the balance reading the spend
reconciler recorded at (or just before) --since; the end is a fresh reading now when RUNFLOW_API_KEY is
set (else the latest recorded one, or the one at --until).

Runflow reports the balance in whole cents, rounded down: each reading is 0–9,999 µUSD under the true
balance, so the change between two readings is exact to within ±9,999 µUSD — a difference inside that
is rounding, not drift. A top-up inside the window shows as negative spend; runs billed but not yet
settled when a reading was taken count on Runflow's side only (a few seconds of runs).

  --since TIME     start: an ISO time (2026-12-03T08:00:00Z) or an age (90m, 24h, 7d)
  --until TIME     end (default: now)
  --json           print JSON instead of a table
  env RUNFLOW_API_KEY, RUNFLOW_BASE_URL (default https://api.runflow.io): read the balance now
${CONNECTION_HELP(env).replace(/ {2}--queue NAME.*\n/, '')}`;

/** Cents → µUSD; the balance is read in whole cents, rounded down. */
const MICRO_PER_CENT = 10_000;

export function parseTimeFlag(name: string, value: string | undefined, now: number): number {
  const age = value ? /^(\d+)(m|h|d)$/.exec(value) : null;
  if (age) return now - Number(age[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[age[2] as 'm' | 'h' | 'd'];
  const at = value ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(at)) {
    throw new CliError(`--${name} ${JSON.stringify(value ?? '')}: an ISO time or an age is needed, e.g. --${name} 24h`);
  }
  return at;
}

export interface DriftReport {
  start: BalanceSample;
  end: BalanceSample;
  runflowSpentMicroUsd: number;
  ledgerMicroUsd: number;
  differenceMicroUsd: number;
  roundingMicroUsd: number;
  withinRounding: boolean;
}

/**
 * The ledger's side is what it books now (Runflow's confirmed cost, else the estimate) for the runs
 * settled between the two readings — not the change of its running total, which also moves when an
 * earlier run's estimate is confirmed.
 */
export function driftBetween(start: BalanceSample, end: BalanceSample, ledgerMicroUsd: number): DriftReport {
  const runflowSpentMicroUsd = (start.balanceCents - end.balanceCents) * MICRO_PER_CENT;
  const differenceMicroUsd = runflowSpentMicroUsd - ledgerMicroUsd;
  return {
    start,
    end,
    runflowSpentMicroUsd,
    ledgerMicroUsd,
    differenceMicroUsd,
    roundingMicroUsd: MICRO_PER_CENT - 1,
    withinRounding: Math.abs(differenceMicroUsd) < MICRO_PER_CENT,
  };
}

export async function spendReconcileCommand(args: string[], env: Env, io: CliIo): Promise<number> {
  const { queue: _queue, ...connection } = connectionOptions(env);
  const { values } = parseCommandArgs('spend reconcile', args, {
    ...connection,
    since: { type: 'string' },
    until: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (values.help) {
    io.stdout.write(`${SPEND_RECONCILE_HELP(env)}\n`);
    return 0;
  }
  const now = Date.now();
  const since = parseTimeFlag('since', values.since, now);
  const until = values.until === undefined ? undefined : parseTimeFlag('until', values.until, now);
  const redis = createRedis(values.redis, { maxRetriesPerRequest: 1, connectTimeout: 3_000 });
  redis.on('error', () => {});
  try {
    const samples = new BalanceSamples(redis, { prefix: values.prefix });
    const ledger = new SpendLedger(redis, { prefix: values.prefix });
    const start = await samples.at(since);
    if (!start) {
      throw new CliError(
        'no balance reading recorded yet: the workers record one a minute (SPEND_RECONCILER=on, SPEND_BALANCE_SAMPLE_MS); try again later',
        1,
      );
    }
    let end: BalanceSample | undefined;
    if (until === undefined && env.RUNFLOW_API_KEY) {
      const client = createRunflowClient({
        baseUrl: env.RUNFLOW_BASE_URL ?? 'https://api.runflow.io',
        apiKey: env.RUNFLOW_API_KEY,
      });
      try {
        const { balanceCents } = await client.getBalance();
        end = { atMs: Date.now(), balanceCents, ledgerMicroUsd: await ledger.totalMicroUsd() };
        await samples.record(end);
      } catch (error) {
        throw new CliError(`could not read the balance from Runflow: ${(error as Error).message}`, 1);
      } finally {
        await client.close();
      }
    } else {
      end = until === undefined ? await samples.latest() : await samples.at(until);
    }
    if (!end || end.atMs <= start.atMs) {
      throw new CliError('only one balance reading in the window: set RUNFLOW_API_KEY to read it now, or wait', 1);
    }
    const report = driftBetween(start, end, await bookedBetween(redis, values.prefix, start.atMs, end.atMs));
    io.stdout.write(`${values.json ? JSON.stringify(report, null, 2) : renderDrift(report)}\n`);
    return report.withinRounding ? 0 : 1;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`could not reconcile from ${values.redis}: ${(error as Error).message}; check --redis`, 1);
  } finally {
    redis.disconnect();
  }
}

/** Σ booked over the spend records settled in (fromMs, toMs]. */
async function bookedBetween(redis: RedisClient, prefix: string, fromMs: number, toMs: number): Promise<number> {
  const records = new SpendRecords(redis, { prefix });
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  let total = 0;
  // A run bills on its terminal day and settles moments later: days from the start's to the end's.
  for await (const record of records.scan({ fromDay: day(fromMs - 86_400_000), toDay: day(toMs) })) {
    if (record.settledAtMs > fromMs && record.settledAtMs <= toMs) total += bookedMicroUsd(record);
  }
  return total;
}

function renderDrift(r: DriftReport): string {
  const usd = (micro: number) => `${formatMicroUsd(micro)} (${micro} µUSD)`;
  const readings = formatTable(
    ['reading', 'at (UTC)', 'balance'],
    [
      ['start', new Date(r.start.atMs).toISOString(), `${r.start.balanceCents} ¢`],
      ['end', new Date(r.end.atMs).toISOString(), `${r.end.balanceCents} ¢`],
    ],
    ['left', 'left', 'right'],
  );
  const result = formatTable(
    ['', 'amount'],
    [
      ['Runflow debited (balance change)', usd(r.runflowSpentMicroUsd)],
      ['ledger booked for the runs settled in between', usd(r.ledgerMicroUsd)],
      ['difference (Runflow − ledger)', usd(r.differenceMicroUsd)],
      ['rounding (whole cents, rounded down)', `± ${r.roundingMicroUsd} µUSD`],
      [
        'verdict',
        r.withinRounding ? 'within rounding: no drift' : 'DRIFT: look at unconfirmed runs and `spend export`',
      ],
    ],
    ['left', 'right'],
  );
  return `${readings}\n\n${result}`;
}
