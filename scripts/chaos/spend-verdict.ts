import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { formatMicroUsd, formatTable } from '@runflow-queue/shared';
import { exportSpend } from '@runflow-queue/stats';
import { bookedMicroUsd, openQueue, SpendLedger, type SpendRecord, SpendRecords } from '@runflow-queue/store';
import { Redis } from 'ioredis';
import type { ChaosFleet, StoppedProcess } from './chaos-fleet.ts';
import type { CliOutputs } from './scenario-spend.ts';

// The spend scenario's facts, read once at the end, and its verdict: the numbers finance signs.

export interface SpendFacts {
  ledgerMicroUsd: number;
  simBilledMicroUsd: number;
  simBilledRuns: number;
  estimatedMicroUsd: number;
  confirmedMicroUsd: number;
  adjustmentsMicroUsd: number;
  /** Σ unconfirmed runs over the ledger rows, and the reconciler's work list: both must be 0. */
  unconfirmedRuns: number;
  unconfirmedListed: number;
  /** Ledger settlements beyond one per run record, plus run ids two completed jobs claim. */
  settledTwice: number;
  records: number;
  billedUnsettled: number;
  costMismatches: number;
  byPath: Record<string, number>;
  exportTotalMicroUsd: number;
  exportRuns: number;
  exportLedgerMicroUsd: number;
  exportHead: string[];
  acceptedJobs: number;
  /** Accepted jobs Redis no longer has: acknowledged enqueues inside the second the SIGKILL lost. */
  jobsLost: number;
  jobsFinished: number;
}

export async function collectSpendFacts(
  fleet: ChaosFleet,
  queues: string[],
  startedMs: number,
  accepted: Set<string>,
  exportFile: string,
): Promise<SpendFacts> {
  const redis = new Redis(fleet.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  try {
    const ledger = new SpendLedger(redis, { prefix: fleet.prefix });
    const records = new SpendRecords(redis, { prefix: fleet.prefix });
    const rows = await ledger.rows(queues);
    const sum = (
      column: 'spendMicroUsd' | 'estimatedMicroUsd' | 'confirmedMicroUsd' | 'adjustmentsMicroUsd' | 'unconfirmedRuns',
    ) => rows.reduce((n, row) => n + row[column], 0);
    const window = {
      fromDay: new Date(startedMs).toISOString().slice(0, 10),
      toDay: new Date().toISOString().slice(0, 10),
      queues,
    };
    const all: SpendRecord[] = [];
    for await (const record of records.scan(window)) all.push(record);
    const byRun = new Map(all.map((record) => [record.runId, record]));
    const billing = fleet.sim.billing();
    let billedUnsettled = 0;
    let costMismatches = 0;
    for (const entry of billing.entries) {
      const record = byRun.get(entry.runId);
      if (!record) billedUnsettled += 1;
      else if (bookedMicroUsd(record) !== entry.costMicroUsd) costMismatches += 1;
    }
    const billedIds = new Set(billing.entries.map((entry) => entry.runId));
    costMismatches += all.filter((record) => !billedIds.has(record.runId) && bookedMicroUsd(record) !== 0).length;
    const settlements = rows.reduce((n, row) => n + row.completed + row.failed + row.wasteRuns, 0);

    let jobsLost = 0;
    let jobsFinished = 0;
    const claimed: string[] = [];
    const bull = new Map(queues.map((name) => [name, openQueue(redis, fleet.prefix, name)]));
    try {
      for (const key of accepted) {
        const [queue, id] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
        const job = await bull.get(queue)?.getJob(id);
        if (!job) jobsLost += 1;
        else if (job.finishedOn !== undefined) {
          jobsFinished += 1;
          if (job.returnvalue?.runId) claimed.push(job.returnvalue.runId);
        }
      }
    } finally {
      await Promise.all([...bull.values()].map((queue) => queue.close()));
    }
    const settledTwice = Math.max(0, settlements - all.length) + (claimed.length - new Set(claimed).size);

    const file = createWriteStream(exportFile);
    const summary = await exportSpend({ records, ledger }, window, 'csv', async (line) => {
      if (!file.write(`${line}\n`)) await once(file, 'drain');
    });
    file.end();
    await once(file, 'finish');
    const byPath: Record<string, number> = {};
    for (const record of all) byPath[record.path] = (byPath[record.path] ?? 0) + 1;
    return {
      ledgerMicroUsd: sum('spendMicroUsd'),
      simBilledMicroUsd: billing.totalMicroUsd,
      simBilledRuns: billing.entries.length,
      estimatedMicroUsd: sum('estimatedMicroUsd'),
      confirmedMicroUsd: sum('confirmedMicroUsd'),
      adjustmentsMicroUsd: sum('adjustmentsMicroUsd'),
      unconfirmedRuns: sum('unconfirmedRuns'),
      unconfirmedListed: (await ledger.unconfirmedSummary()).count,
      settledTwice,
      records: all.length,
      billedUnsettled,
      costMismatches,
      byPath,
      exportTotalMicroUsd: summary.exportTotalMicroUsd,
      exportRuns: summary.runs,
      exportLedgerMicroUsd: summary.ledgerMicroUsd,
      exportHead: readFileSync(exportFile, 'utf8').split('\n').slice(0, 6),
      acceptedJobs: accepted.size,
      jobsLost,
      jobsFinished,
    };
  } finally {
    redis.disconnect();
  }
}

export interface SpendReport extends SpendFacts {
  ok: boolean;
  checks: { name: string; holds: boolean; detail: string }[];
  callbackShare: number;
  pollShare: number;
  balanceDifferenceMicroUsd: number | undefined;
  spendTable: string;
  reconcileOutput: string;
  exportFile: string;
  workerExits: StoppedProcess[];
  elapsedMs: number;
}

export function spendVerdict(input: {
  jobs: number;
  facts: SpendFacts;
  cli: CliOutputs;
  exportFile: string;
  drains: StoppedProcess[];
  elapsedMs: number;
}): SpendReport {
  const f = input.facts;
  const settledByJob = (f.byPath.callback ?? 0) + (f.byPath.poll ?? 0);
  const callbackShare = settledByJob > 0 ? (f.byPath.callback ?? 0) / settledByJob : 0;
  const checks = [
    {
      name: 'ledger = what Runflow billed',
      holds: f.ledgerMicroUsd === f.simBilledMicroUsd && f.billedUnsettled === 0 && f.costMismatches === 0,
      detail: `ledger ${f.ledgerMicroUsd} µUSD vs billed ${f.simBilledMicroUsd} µUSD; ${f.billedUnsettled} billed runs without a record; ${f.costMismatches} per-run mismatches`,
    },
    {
      name: 'every run confirmed',
      holds: f.unconfirmedRuns === 0 && f.unconfirmedListed === 0,
      detail: `${f.unconfirmedRuns} unconfirmed in the ledger, ${f.unconfirmedListed} in the reconciler's list`,
    },
    {
      name: 'settled once',
      holds: f.settledTwice === 0,
      detail: `${f.settledTwice} settled twice; ${f.records} records`,
    },
    {
      name: 'export = ledger',
      holds: f.exportTotalMicroUsd === f.ledgerMicroUsd && f.exportLedgerMicroUsd === f.ledgerMicroUsd,
      detail: `${f.exportRuns} runs exported, ${f.exportTotalMicroUsd} µUSD; ledger ${f.ledgerMicroUsd} µUSD`,
    },
    {
      name: 'balance drift within rounding',
      holds:
        input.cli.reconcileDifferenceMicroUsd !== undefined && Math.abs(input.cli.reconcileDifferenceMicroUsd) < 10_000,
      detail: `Runflow's balance change − ledger = ${input.cli.reconcileDifferenceMicroUsd ?? 'n/a'} µUSD (whole cents: ±9,999 µUSD is rounding)`,
    },
    {
      name: 'workers drained cleanly',
      holds: input.drains.every((exit) => exit.code === 0),
      detail: input.drains.map((exit) => `${exit.code ?? exit.signal} in ${exit.ms} ms`).join(', '),
    },
  ];
  return {
    ...f,
    ok: checks.every((check) => check.holds),
    checks,
    callbackShare,
    pollShare: settledByJob > 0 ? 1 - callbackShare : 0,
    balanceDifferenceMicroUsd: input.cli.reconcileDifferenceMicroUsd,
    spendTable: input.cli.spend,
    reconcileOutput: input.cli.reconcile,
    exportFile: input.exportFile,
    workerExits: input.drains,
    elapsedMs: input.elapsedMs,
  };
}

export function renderSpendReport(r: SpendReport): string {
  const usd = (micro: number) => `${formatMicroUsd(micro)} (${micro} µUSD)`;
  const numbers = formatTable(
    ['', 'value'],
    [
      ['ledgerMicroUsd', usd(r.ledgerMicroUsd)],
      ['simBilledMicroUsd', `${usd(r.simBilledMicroUsd)}, ${r.simBilledRuns} runs`],
      ['estimatedMicroUsd (booked from the table)', usd(r.estimatedMicroUsd)],
      ['confirmedMicroUsd (Runflow’s cost)', usd(r.confirmedMicroUsd)],
      ['adjustmentsMicroUsd', usd(r.adjustmentsMicroUsd)],
      ['unconfirmedRuns', String(r.unconfirmedRuns)],
      ['settledTwice', String(r.settledTwice)],
      ['exportTotalMicroUsd', `${usd(r.exportTotalMicroUsd)}, ${r.exportRuns} runs`],
      [
        'settled by path',
        Object.entries(r.byPath)
          .map(([path, n]) => `${path} ${n}`)
          .join(', '),
      ],
      ['callback / poll', `${Math.round(r.callbackShare * 100)}% / ${Math.round(r.pollShare * 100)}%`],
      [
        'balance drift (spend reconcile)',
        r.balanceDifferenceMicroUsd === undefined ? 'n/a' : `${r.balanceDifferenceMicroUsd} µUSD`,
      ],
      ['jobs accepted / finished / lost with the SIGKILL', `${r.acceptedJobs} / ${r.jobsFinished} / ${r.jobsLost}`],
    ],
    ['left', 'right'],
  );
  const verdicts = formatTable(
    ['check', 'holds', 'detail'],
    r.checks.map((check) => [check.name, check.holds ? 'yes' : 'NO', check.detail]),
    ['left', 'left', 'left'],
  );
  return [
    numbers,
    '',
    verdicts,
    '',
    '$ pnpm spend',
    r.spendTable,
    '',
    '$ runflow-queue spend reconcile --since <start of the run>',
    r.reconcileOutput,
    '',
    `$ head ${r.exportFile}`,
    ...r.exportHead,
  ].join('\n');
}
