import type { CompletedBy, PricedRun } from '@runflow-queue/shared';
import { BUDGET_WINDOW_TTL_SECONDS, type Reservation } from './budget-store.ts';
import { queueKeys, queuesKey, spendKeys } from './keys.ts';
import { LuaScript, type RedisClient } from './lua-script.ts';
import {
  bookedMicroUsd,
  decodeDimension,
  decodeSpendRecord,
  encodeSpendRecord,
  ledgerRowField,
  NO_DIMENSION,
  type SpendPath,
  type SpendRecord,
  type SpendState,
} from './spend-record.ts';
import { recordsKeyOf, runsExpireAtSeconds } from './spend-retention.ts';

const settleRunScript = new LuaScript('settle-run-3');
const confirmRunScript = new LuaScript('confirm-run-3');
const budgetSettleScript = new LuaScript('budget-settle-3');
const budgetAdjustScript = new LuaScript('budget-adjust-2');

export interface Settlement {
  queue: string;
  runId: string;
  /** The job that kept the run (for waste: the job whose earlier run it was; `-` when none is known). */
  jobId?: string | undefined;
  model: string;
  /** UTC day the run reached its terminal state (YYYY-MM-DD): the day it billed. */
  day: string;
  costCenter?: string | undefined;
  /** The named caller that enqueued the job (unset: none, shown as `-`). */
  caller?: string | undefined;
  /** `waste`: a run that billed but that no job kept (orphan or duplicate of an ambiguous submit). */
  outcome: 'completed' | 'failed' | 'waste';
  images: number;
  /** What is booked now, µUSD: Runflow's cost when it gave one, else the price table's estimate. */
  costMicroUsd: number;
  completedBy: CompletedBy;
  /** Where the cost came from, and the price point in force: kept with the run, so history never moves. */
  pricing?: { source: 'provider' | 'price-table'; perImageMicroUsd: number; effectiveFrom: string };
  /** The price table's amount (default: costMicroUsd); differs from costMicroUsd when Runflow's cost is booked. */
  estimatedMicroUsd?: number | undefined;
  /** Default: `confirmed` when the cost is Runflow's, `estimated` when it is the table's. */
  state?: SpendState | undefined;
  /** Default: `waste` for waste, else completedBy. */
  path?: SpendPath | undefined;
  /** The job's budget: its reservation (if any) turns into spend after the run is settled. */
  budget?: { jobId: string | undefined; reservation: Reservation | undefined; at: number };
  settledAtMs?: number | undefined;
}

/** One ledger row: a queue's totals for a day, model, cost center and caller. Money in integer µUSD. */
export interface LedgerRow {
  queue: string;
  day: string;
  model: string;
  costCenter: string;
  /** `-` for runs of jobs that record no caller (and for every run settled before callers existed). */
  caller: string;
  completed: number;
  failed: number;
  images: number;
  /** What the ledger books: estimates of unconfirmed runs, Runflow's cost of confirmed ones. */
  spendMicroUsd: number;
  byCallback: number;
  byPoll: number;
  wasteMicroUsd: number;
  /** Orphan / duplicate runs that billed. */
  wasteRuns: number;
  /** Booked from the price table at settle (every run settled without Runflow's cost). */
  estimatedMicroUsd: number;
  /** Runflow's own cost of every confirmed run. */
  confirmedMicroUsd: number;
  /** Booked by the reconciler: Runflow's cost − our estimate, summed. */
  adjustmentsMicroUsd: number;
  /** Settled from the table, waiting for Runflow's record. */
  unconfirmedRuns: number;
  /** Runs whose Runflow record carries no cost: the price table stands. */
  tableRuns: number;
  /** Confirmed runs whose Runflow cost differed from the estimate. */
  adjustedRuns: number;
}

type LedgerCount = Exclude<keyof LedgerRow, 'queue' | 'day' | 'model' | 'costCenter' | 'caller'>;

const EMPTY_COUNTS: Record<LedgerCount, number> = {
  completed: 0,
  failed: 0,
  images: 0,
  spendMicroUsd: 0,
  byCallback: 0,
  byPoll: 0,
  wasteMicroUsd: 0,
  wasteRuns: 0,
  estimatedMicroUsd: 0,
  confirmedMicroUsd: 0,
  adjustmentsMicroUsd: 0,
  unconfirmedRuns: 0,
  tableRuns: 0,
  adjustedRuns: 0,
};

/** Ledger hash field suffix → row column. */
const METRIC_COLUMNS: Record<string, LedgerCount> = {
  completed: 'completed',
  failed: 'failed',
  images: 'images',
  spendMicroUsd: 'spendMicroUsd',
  by_callback: 'byCallback',
  by_poll: 'byPoll',
  wasteMicroUsd: 'wasteMicroUsd',
  wasteRuns: 'wasteRuns',
  estimatedMicroUsd: 'estimatedMicroUsd',
  confirmedMicroUsd: 'confirmedMicroUsd',
  adjustmentsMicroUsd: 'adjustmentsMicroUsd',
  unconfirmedRuns: 'unconfirmedRuns',
  tableRuns: 'tableRuns',
  adjustedRuns: 'adjustedRuns',
};

export type SettleOutcome = { settledNow: true; record: SpendRecord } | { settledNow: false; record: SpendRecord };

/**
 * Per queue / model / day / cost center / caller spend, settled exactly once per run id account-wide,
 * with one spend record per run (see spend-record.ts) that the reconciler confirms against Runflow.
 */
export class SpendLedger {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  constructor(redis: RedisClient, options: { prefix: string }) {
    this.#redis = redis;
    this.#prefix = options.prefix;
  }

  /** Returns false when this run id had been settled before, by any queue (nothing changes). */
  async settle(s: Settlement): Promise<boolean> {
    return (await this.settleOnce(s)).settledNow;
  }

  /**
   * Settles the run once and returns its record: the one written now, or the one already stored
   * (throws when that one cannot be read: a marker that cannot be read is never trusted).
   */
  async settleOnce(s: Settlement): Promise<SettleOutcome> {
    const keys = spendKeys(this.#prefix);
    const state: SpendState = s.state ?? (s.pricing?.source === 'provider' ? 'confirmed' : 'estimated');
    const settledAtMs = s.settledAtMs ?? Date.now();
    const record: SpendRecord = {
      runId: s.runId,
      queue: s.queue,
      jobId: s.jobId ?? NO_DIMENSION,
      model: s.model,
      costCenter: s.costCenter || NO_DIMENSION,
      caller: s.caller || NO_DIMENSION,
      day: s.day,
      outcome: s.outcome,
      images: s.images,
      estimatedMicroUsd: s.estimatedMicroUsd ?? s.costMicroUsd,
      confirmedMicroUsd: state === 'confirmed' ? s.costMicroUsd : null,
      adjustmentMicroUsd: 0,
      path: s.path ?? (s.outcome === 'waste' ? 'waste' : s.completedBy),
      settledAtMs,
      state,
    };
    // Settled by the deploy before this one (its marker lives 8 days in the queue's slot): not again.
    const legacy = await this.legacyRecord(s.queue, s.runId);
    if (legacy) {
      if (s.budget) await this.#settleBudget(s, bookedMicroUsd(legacy), 'again');
      return { settledNow: false, record: legacy };
    }
    const pathCounter = record.path === 'callback' || record.path === 'poll' ? `by_${record.path}` : '';
    const answer = await settleRunScript.run(
      this.#redis,
      [recordsKeyOf(this.#prefix, s.runId), keys.ledger(s.queue), keys.unconfirmed],
      [
        s.runId,
        encodeSpendRecord(record),
        runsExpireAtSeconds(s.runId, settledAtMs),
        ledgerRowField(record),
        s.outcome === 'waste' ? 'wasteRuns' : s.outcome,
        s.images,
        bookedMicroUsd(record),
        pathCounter,
        state,
        settledAtMs,
      ],
    );
    if (answer === 1) {
      if (s.budget) await this.#settleBudget(s, bookedMicroUsd(record), 'now');
      return { settledNow: true, record };
    }
    const stored = decodeSpendRecord(s.runId, String(answer));
    const mine = stored.queue === s.queue && stored.jobId === record.jobId;
    // A run booked as waste first (ingest or the reconciler judged it kept by no job) stays waste in the
    // ledger, and waste never counts against a budget: the job only releases its reservation. (Seen in
    // chaos: budget spent = settled + one waste run, when ingest settled a run as waste before its job
    // adopted it.)
    const countsForJob = mine && stored.outcome !== 'waste';
    if (s.budget) await this.#settleBudget(s, bookedMicroUsd(stored), countsForJob ? 'again' : 'foreign');
    return { settledNow: false, record: stored };
  }

  async #settleBudget(s: Settlement, costMicroUsd: number, mode: 'now' | 'again' | 'foreign'): Promise<void> {
    const budget = s.budget;
    if (!budget) return;
    const keys = queueKeys(this.#prefix, s.queue);
    const windowsAt = new Date(budget.at).toISOString();
    const day = budget.reservation?.day ?? windowsAt.slice(0, 10);
    const month = budget.reservation?.month ?? windowsAt.slice(0, 7);
    await budgetSettleScript.run(
      this.#redis,
      [keys.reservations, keys.budgetDay(day), keys.budgetMonth(month)],
      [budget.jobId ?? '', costMicroUsd, BUDGET_WINDOW_TTL_SECONDS, mode],
    );
  }

  /**
   * Settles a run that billed but that no job kept (an orphan of an ambiguous submit) as waste, once.
   * Returns false when it had been settled before.
   */
  async settleWaste(
    run: {
      queue: string;
      runId: string;
      model: string;
      jobId?: string | undefined;
      costCenter?: string | undefined;
      caller?: string | undefined;
    },
    price: PricedRun,
  ): Promise<boolean> {
    return this.settle({
      ...run,
      day: price.day,
      outcome: 'waste',
      images: price.images,
      costMicroUsd: price.costMicroUsd,
      completedBy: 'callback',
      pricing: price.pricing,
    });
  }

  /**
   * The settle marker an earlier deploy left for this run in the queue's slot, as a record (what it
   * knew: cost and outcome), or undefined. Such a run is settled; it has no per-run record to export.
   */
  async legacyRecord(queue: string, runId: string): Promise<SpendRecord | undefined> {
    const marker = await this.#redis.get(queueKeys(this.#prefix, queue).legacySettled(runId));
    if (marker === null) return undefined;
    let parsed: { costMicroUsd?: unknown; outcome?: unknown };
    try {
      parsed = JSON.parse(marker) as typeof parsed;
    } catch {
      throw new Error(`settle marker of run ${runId} in queue ${queue} cannot be read: "${marker}"`);
    }
    const cost = typeof parsed.costMicroUsd === 'number' ? parsed.costMicroUsd : 0;
    const outcome = parsed.outcome === 'failed' || parsed.outcome === 'waste' ? parsed.outcome : 'completed';
    return {
      runId,
      queue,
      jobId: NO_DIMENSION,
      model: NO_DIMENSION,
      costCenter: NO_DIMENSION,
      caller: NO_DIMENSION,
      day: '1970-01-01',
      outcome,
      images: 0,
      estimatedMicroUsd: cost,
      confirmedMicroUsd: cost,
      adjustmentMicroUsd: 0,
      path: outcome === 'waste' ? 'waste' : 'callback',
      settledAtMs: 0,
      state: 'confirmed',
    };
  }

  /** The record of a settled run, or undefined when it was never settled (or has expired). */
  async record(runId: string): Promise<SpendRecord | undefined> {
    const encoded = await this.#redis.hget(recordsKeyOf(this.#prefix, runId), runId);
    return encoded === null ? undefined : decodeSpendRecord(runId, encoded);
  }

  /**
   * Confirms a run against Runflow's own record: `runflowCostMicroUsd` is Runflow's cost, or null when
   * its record carries none (the price table stands, and the record says so). Books the difference as
   * an adjustment. Returns the record as it stands afterwards (undefined: never settled).
   */
  async confirm(runId: string, runflowCostMicroUsd: number | null): Promise<SpendRecord | undefined> {
    const keys = spendKeys(this.#prefix);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const key = recordsKeyOf(this.#prefix, runId);
      const encoded = await this.#redis.hget(key, runId);
      if (encoded === null) {
        await this.#redis.zrem(keys.unconfirmed, runId);
        return undefined;
      }
      const current = decodeSpendRecord(runId, encoded);
      if (current.state !== 'estimated') {
        await this.#redis.zrem(keys.unconfirmed, runId);
        return current;
      }
      const confirmed: SpendRecord =
        runflowCostMicroUsd === null
          ? { ...current, state: 'table' }
          : {
              ...current,
              state: 'confirmed',
              confirmedMicroUsd: runflowCostMicroUsd,
              adjustmentMicroUsd: runflowCostMicroUsd - current.estimatedMicroUsd,
            };
      const done = await confirmRunScript.run(
        this.#redis,
        [key, keys.ledger(current.queue), keys.unconfirmed],
        [
          runId,
          encoded,
          encodeSpendRecord(confirmed),
          ledgerRowField(current),
          confirmed.adjustmentMicroUsd,
          runflowCostMicroUsd === null ? '' : runflowCostMicroUsd,
        ],
      );
      if (done === 1) {
        // The queue's budget follows Runflow's cost too (windows of the day the run billed).
        if (confirmed.adjustmentMicroUsd !== 0) {
          const keys = queueKeys(this.#prefix, current.queue);
          await budgetAdjustScript.run(
            this.#redis,
            [keys.budgetDay(current.day), keys.budgetMonth(current.day.slice(0, 7))],
            [confirmed.adjustmentMicroUsd],
          );
        }
        return confirmed;
      }
    }
    throw new Error(`run ${runId}: its spend record kept changing while it was being confirmed; try again`);
  }

  /** Runs waiting for Runflow's record, oldest first: run id and when it was settled (ms). */
  async unconfirmed(limit = 500): Promise<{ runId: string; settledAtMs: number }[]> {
    const flat = await this.#redis.zrange(spendKeys(this.#prefix).unconfirmed, '0', String(limit - 1), 'WITHSCORES');
    const runs: { runId: string; settledAtMs: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) runs.push({ runId: flat[i], settledAtMs: Number(flat[i + 1]) });
    return runs;
  }

  /** How many runs wait for confirmation, and the oldest one's settle time (ms; undefined when none). */
  async unconfirmedSummary(): Promise<{ count: number; oldestSettledAtMs: number | undefined }> {
    const key = spendKeys(this.#prefix).unconfirmed;
    const [count, oldest] = await Promise.all([
      this.#redis.zcard(key),
      this.#redis.zrange(key, '0', '0', 'WITHSCORES'),
    ]);
    return { count, oldestSettledAtMs: oldest.length === 2 ? Number(oldest[1]) : undefined };
  }

  async registerQueue(queue: string): Promise<void> {
    await this.#redis.sadd(queuesKey(this.#prefix), queue);
  }

  async queues(): Promise<string[]> {
    return (await this.#redis.smembers(queuesKey(this.#prefix))).sort();
  }

  async rows(queues?: readonly string[]): Promise<LedgerRow[]> {
    const names = queues ?? (await this.queues());
    const rows: LedgerRow[] = [];
    for (const queue of names) {
      // The ledger of an earlier deploy (queue slot, same field shape) adds to the current one.
      const [current, legacy] = await Promise.all([
        this.#redis.hgetall(spendKeys(this.#prefix).ledger(queue)),
        this.#redis.hgetall(queueKeys(this.#prefix, queue).legacyLedger),
      ]);
      const byKey = new Map<string, LedgerRow>();
      for (const raw of [legacy, current]) {
        for (const [field, value] of Object.entries(raw)) {
          const parts = field.split('|');
          const metric = parts.pop() as string;
          const [day, model, costCenter, caller = NO_DIMENSION] = parts;
          const key = [day, model, costCenter, caller].join('|');
          const row =
            byKey.get(key) ??
            ({
              queue,
              day,
              model: decodeDimension(model),
              costCenter: decodeDimension(costCenter),
              caller: decodeDimension(caller),
              ...EMPTY_COUNTS,
            } satisfies LedgerRow);
          byKey.set(key, row);
          const column = METRIC_COLUMNS[metric];
          if (column) row[column] += Number(value);
        }
      }
      rows.push(...byKey.values());
    }
    return rows.sort(
      (a, b) =>
        a.queue.localeCompare(b.queue) ||
        a.day.localeCompare(b.day) ||
        a.model.localeCompare(b.model) ||
        a.costCenter.localeCompare(b.costCenter) ||
        a.caller.localeCompare(b.caller),
    );
  }

  async totalMicroUsd(queues?: readonly string[]): Promise<number> {
    return (await this.rows(queues)).reduce((sum, row) => sum + row.spendMicroUsd, 0);
  }
}
