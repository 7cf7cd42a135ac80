import type { Sim, SimBilling, SimRun, SimStats } from '@runflow-queue/runflow-sim';
import type { EditJobData, EditResult } from '@runflow-queue/shared';
import {
  bookedMicroUsd,
  CallbackInbox,
  type LedgerRow,
  openQueue,
  queueKeys,
  queueTag,
  SpendLedger,
  SpendRecords,
} from '@runflow-queue/store';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';

// Everything the invariant checks look at, read once at the end of a run: every job of the queues,
// every run the simulator created and its billing record, the ledger rows and the per-run settle
// markers, the callback counters and the budget windows.

export interface JobFact {
  queue: string;
  id: string;
  state: string;
  data: EditJobData;
  result: EditResult | undefined;
  failedReason: string | undefined;
}

export interface SettleMarker {
  queue: string;
  runId: string;
  costMicroUsd: number;
  outcome: string;
  state: string;
  estimatedMicroUsd: number;
  path: string;
}

export interface BudgetFact {
  queue: string;
  /** Reservations still held by jobs (jobId → amount), should be none once every job ended. */
  reservationsHeld: number;
  /** Sums over every day window of the queue. */
  reservedMicroUsd: number;
  spentMicroUsd: number;
}

export interface ChaosFacts {
  jobs: JobFact[];
  runs: SimRun[];
  billing: SimBilling;
  simStats: SimStats;
  requestTimes: number[];
  ledgerRows: LedgerRow[];
  markers: SettleMarker[];
  callbacks: Record<string, { received: number; duplicate: number; unmatched: number }>;
  budgets: BudgetFact[];
}

const JOB_STATES = ['completed', 'failed', 'active', 'waiting', 'prioritized', 'delayed', 'paused', 'waiting-children'];
const PAGE = 1_000;

export async function collectFacts(redisUrl: string, prefix: string, queues: string[], sim: Sim): Promise<ChaosFacts> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  try {
    const jobs: JobFact[] = [];
    for (const name of queues) jobs.push(...(await readJobs(redis, prefix, name)));
    const ledger = new SpendLedger(redis, { prefix });
    const inbox = new CallbackInbox(redis, { prefix });
    const markers: SettleMarker[] = [];
    const callbacks: ChaosFacts['callbacks'] = {};
    const budgets: BudgetFact[] = [];
    markers.push(...(await readMarkers(redis, prefix, queues)));
    for (const queue of queues) {
      callbacks[queue] = await inbox.counters(queue);
      budgets.push(await readBudget(redis, prefix, queue));
    }
    return {
      jobs,
      runs: sim.runs(),
      billing: sim.billing(),
      simStats: sim.stats(),
      requestTimes: sim.requestTimes(),
      ledgerRows: await ledger.rows(queues),
      markers,
      callbacks,
      budgets,
    };
  } finally {
    redis.disconnect();
  }
}

async function readJobs(redis: Redis, prefix: string, name: string): Promise<JobFact[]> {
  const queue = openQueue(redis, prefix, name);
  const facts: JobFact[] = [];
  try {
    for (const state of JOB_STATES) {
      for (let start = 0; ; start += PAGE) {
        // biome-ignore lint/suspicious/noExplicitAny: BullMQ types getJobs' states as a fixed union
        const page: Job<EditJobData, EditResult>[] = await queue.getJobs([state as any], start, start + PAGE - 1, true);
        for (const job of page) {
          if (!job) continue;
          facts.push({
            queue: name,
            id: job.id as string,
            state,
            data: job.data,
            result: state === 'completed' ? job.returnvalue : undefined,
            failedReason: state === 'failed' ? job.failedReason : undefined,
          });
        }
        if (page.length < PAGE) break;
      }
    }
  } finally {
    await queue.close();
  }
  return facts;
}

async function scanKeys(redis: Redis, match: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1_000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  // SCAN may return a key twice while Redis rehashes; a marker counted twice would read as settled twice.
  return [...new Set(keys)];
}

/**
 * The spend record of every run settled in these queues (the account-wide settle-once marker): one per
 * run id, so a run id appearing twice here would be a run settled twice.
 */
async function readMarkers(redis: Redis, prefix: string, queues: string[]): Promise<SettleMarker[]> {
  const records = new SpendRecords(redis, { prefix });
  const markers: SettleMarker[] = [];
  for await (const record of records.scan({ fromDay: '2000-01-01', toDay: '2999-12-31', queues })) {
    markers.push({
      queue: record.queue,
      runId: record.runId,
      costMicroUsd: bookedMicroUsd(record),
      outcome: record.outcome,
      state: record.state,
      estimatedMicroUsd: record.estimatedMicroUsd,
      path: record.path,
    });
  }
  return markers;
}

async function readBudget(redis: Redis, prefix: string, queue: string): Promise<BudgetFact> {
  const keys = queueKeys(prefix, queue);
  const windows = await scanKeys(redis, `${queueTag(prefix, queue)}:budget:day:*`);
  let reservedMicroUsd = 0;
  let spentMicroUsd = 0;
  for (const key of windows) {
    const window = await redis.hgetall(key);
    reservedMicroUsd += Number(window.reserved ?? 0);
    spentMicroUsd += Number(window.spent ?? 0);
  }
  return { queue, reservationsHeld: await redis.hlen(keys.reservations), reservedMicroUsd, spentMicroUsd };
}
