import type { CompletedBy, PricedRun } from '@runflow-queue/shared';
import { BUDGET_WINDOW_TTL_SECONDS, type Reservation } from './budget-store.ts';
import { queueKeys, queuesKey } from './keys.ts';
import { LuaScript, type RedisClient } from './lua-script.ts';
import { retentionSeconds } from './retention.ts';

const settleRunScript = new LuaScript('settle-run-5');

/**
 * The settle-once marker must outlive everything that could settle the run again: the callback inbox
 * (7 days), kept jobs (24 h completed, 7 days failed) and callback retries. It is most of a finished
 * job's Redis footprint, so no longer than that.
 */
const DEFAULT_MARKER_TTL_SECONDS = 8 * 24 * 3600;
const NO_COST_CENTER = '-';
const NO_CALLER = '-';

/**
 * A cost center or caller as a ledger field part: what the producer accepts ([A-Za-z0-9._-], 64 at
 * most) passes unchanged; anything else (a job written before that check) is made safe, so no value
 * can add a `|` and forge another row.
 */
export function ledgerPart(value: string | undefined, none: string): string {
  if (!value) return none;
  const safe = value.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
  return safe === none ? `_${none}` : safe;
}

export interface Settlement {
  queue: string;
  runId: string;
  model: string;
  /** UTC day the run reached its terminal state (YYYY-MM-DD): the day it billed. */
  day: string;
  costCenter?: string | undefined;
  /** The named caller that enqueued the job (unset: none, shown as `-`). */
  caller?: string | undefined;
  /** `waste`: a run that billed but that no job kept (orphan or duplicate of an ambiguous submit). */
  outcome: 'completed' | 'failed' | 'waste';
  images: number;
  costMicroUsd: number;
  completedBy: CompletedBy;
  /** Where the cost came from, and the price point in force: kept with the run, so history never moves. */
  pricing?: { source: 'provider' | 'price-table'; perImageMicroUsd: number; effectiveFrom: string };
  /** The job's budget: its reservation (if any) turns into spend in the same atomic step. */
  budget?: { jobId: string | undefined; reservation: Reservation | undefined; at: number };
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
  spendMicroUsd: number;
  byCallback: number;
  byPoll: number;
  wasteMicroUsd: number;
  /** Orphan / duplicate runs that billed. */
  wasteRuns: number;
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
};

/** Per queue / model / day / cost center spend, settled exactly once per run. */
export class SpendLedger {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #markerTtlSeconds: number;

  /** `retentionDivisor` divides the marker's retention (benchmarks: RETENTION_DIVISOR). */
  constructor(redis: RedisClient, options: { prefix: string; retentionDivisor?: number }) {
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.#markerTtlSeconds = retentionSeconds(DEFAULT_MARKER_TTL_SECONDS, options.retentionDivisor);
  }

  /** Returns false when this run had been settled before (nothing changes). */
  async settle(s: Settlement): Promise<boolean> {
    const keys = queueKeys(this.#prefix, s.queue);
    // `day|model|costCenter`, plus `|caller` when the job has one: rows of jobs without a caller keep the
    // field they always had, so totals written before this version still add up with new ones.
    const parts = [s.day, s.model, ledgerPart(s.costCenter, NO_COST_CENTER)];
    if (s.caller) parts.push(ledgerPart(s.caller, NO_CALLER));
    const field = parts.join('|');
    const windowsAt = new Date(s.budget?.at ?? Date.now()).toISOString();
    const day = s.budget?.reservation?.day ?? windowsAt.slice(0, 10);
    const month = s.budget?.reservation?.month ?? windowsAt.slice(0, 7);
    const marker = JSON.stringify({ costMicroUsd: s.costMicroUsd, outcome: s.outcome, ...s.pricing });
    const settled = await settleRunScript.run(
      this.#redis,
      [keys.settled(s.runId), keys.ledger, keys.reservations, keys.budgetDay(day), keys.budgetMonth(month)],
      [
        this.#markerTtlSeconds,
        field,
        s.outcome === 'waste' ? 'wasteRuns' : s.outcome,
        s.images,
        s.costMicroUsd,
        s.completedBy,
        s.budget?.jobId ?? '',
        marker,
        s.budget ? BUDGET_WINDOW_TTL_SECONDS : 0,
      ],
    );
    return settled === 1;
  }

  /**
   * Settles a run that billed but that no job kept (an orphan of an ambiguous submit) as waste, once.
   * Returns false when it had been settled before.
   */
  async settleWaste(
    run: { queue: string; runId: string; model: string; costCenter?: string | undefined; caller?: string | undefined },
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
      const raw = await this.#redis.hgetall(queueKeys(this.#prefix, queue).ledger);
      const byKey = new Map<string, LedgerRow>();
      for (const [field, value] of Object.entries(raw)) {
        const parts = field.split('|');
        const metric = parts.pop() as string;
        const [day, model, costCenter, caller = NO_CALLER] = parts;
        const key = parts.join('|');
        const row = byKey.get(key) ?? ({ queue, day, model, costCenter, caller, ...EMPTY_COUNTS } satisfies LedgerRow);
        byKey.set(key, row);
        const column = METRIC_COLUMNS[metric];
        if (column) row[column] = Number(value);
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
