import type { CompletedBy } from '@runflow-queue/shared';
import { queueKeys, queuesKey } from './keys.ts';
import { LuaScript, type RedisClient } from './lua-script.ts';

const settleRunScript = new LuaScript('settle-run');

const DEFAULT_MARKER_TTL_SECONDS = 90 * 24 * 3600;
const NO_COST_CENTER = '-';

export interface Settlement {
  queue: string;
  runId: string;
  model: string;
  /** UTC day the run reached its terminal state (YYYY-MM-DD): the day it billed. */
  day: string;
  costCenter?: string | undefined;
  outcome: 'completed' | 'failed';
  images: number;
  costMicroUsd: number;
  completedBy: CompletedBy;
}

/** One ledger row: a queue's totals for a day, model and cost center. Money in integer µUSD. */
export interface LedgerRow {
  queue: string;
  day: string;
  model: string;
  costCenter: string;
  completed: number;
  failed: number;
  images: number;
  spendMicroUsd: number;
  byCallback: number;
  byPoll: number;
}

/** Per queue / model / day / cost center spend, settled exactly once per run. */
export class SpendLedger {
  readonly #redis: RedisClient;
  readonly #prefix: string;

  constructor(redis: RedisClient, options: { prefix: string }) {
    this.#redis = redis;
    this.#prefix = options.prefix;
  }

  /** Returns false when this run had been settled before (nothing changes). */
  async settle(s: Settlement): Promise<boolean> {
    const keys = queueKeys(this.#prefix, s.queue);
    const field = [s.day, s.model, s.costCenter || NO_COST_CENTER].join('|');
    const settled = await settleRunScript.run(
      this.#redis,
      [keys.settled(s.runId), keys.ledger],
      [DEFAULT_MARKER_TTL_SECONDS, field, s.outcome, s.images, s.costMicroUsd, s.completedBy],
    );
    return settled === 1;
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
        const [day, model, costCenter] = parts;
        const key = parts.join('|');
        let row = byKey.get(key);
        if (!row) {
          row = {
            queue,
            day,
            model,
            costCenter,
            completed: 0,
            failed: 0,
            images: 0,
            spendMicroUsd: 0,
            byCallback: 0,
            byPoll: 0,
          };
          byKey.set(key, row);
        }
        const n = Number(value);
        if (metric === 'completed') row.completed = n;
        else if (metric === 'failed') row.failed = n;
        else if (metric === 'images') row.images = n;
        else if (metric === 'spendMicroUsd') row.spendMicroUsd = n;
        else if (metric === 'by_callback') row.byCallback = n;
        else if (metric === 'by_poll') row.byPoll = n;
      }
      rows.push(...byKey.values());
    }
    return rows.sort(
      (a, b) => a.queue.localeCompare(b.queue) || a.day.localeCompare(b.day) || a.model.localeCompare(b.model),
    );
  }

  async totalMicroUsd(queues?: readonly string[]): Promise<number> {
    return (await this.rows(queues)).reduce((sum, row) => sum + row.spendMicroUsd, 0);
  }
}
