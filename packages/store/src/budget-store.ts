import type { QueueBudget } from '@runflow-queue/shared';
import { queueKeys } from './keys.ts';
import { LuaScript, type RedisClient } from './lua-script.ts';

const reserveScript = new LuaScript('budget-reserve-3');
const releaseScript = new LuaScript('budget-release-3');

/** Window hashes live a little longer than the longest window (a month). */
export const BUDGET_WINDOW_TTL_SECONDS = 40 * 24 * 3600;

export interface Reservation {
  amountMicroUsd: number;
  day: string;
  month: string;
}

export type ReserveResult =
  | { reserved: true; reservation: Reservation }
  | { reserved: false; window: 'day' | 'month'; resetsAt: number };

export function usdToMicro(usd: number): number {
  return Math.round(usd * 1_000_000);
}

/** Start of the next UTC day / month after `at`, in epoch ms. */
export function nextWindowStart(window: 'day' | 'month', at: number): number {
  const d = new Date(at);
  return window === 'day'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/**
 * A queue's USD budget per UTC day and/or month. A job reserves its estimated cost atomically before
 * it is submitted; the run's actual cost replaces the reservation when it settles (settle-run.lua);
 * a job that ends without a run releases it.
 */
export class BudgetStore {
  readonly #redis: RedisClient;
  readonly #prefix: string;

  constructor(redis: RedisClient, options: { prefix: string }) {
    this.#redis = redis;
    this.#prefix = options.prefix;
  }

  async reserve(
    queue: string,
    jobId: string,
    amountMicroUsd: number,
    budget: QueueBudget,
    now = Date.now(),
  ): Promise<ReserveResult> {
    const keys = queueKeys(this.#prefix, queue);
    const iso = new Date(now).toISOString();
    const day = iso.slice(0, 10);
    const month = iso.slice(0, 7);
    const [ok, detail] = (await reserveScript.run(
      this.#redis,
      [keys.reservations, keys.budgetDay(day), keys.budgetMonth(month)],
      [
        jobId,
        amountMicroUsd,
        budget.dailyUsd === undefined ? -1 : usdToMicro(budget.dailyUsd),
        budget.monthlyUsd === undefined ? -1 : usdToMicro(budget.monthlyUsd),
        `${amountMicroUsd}|${day}|${month}`,
        BUDGET_WINDOW_TTL_SECONDS,
      ],
    )) as [number, number];
    if (ok === 1) {
      if (detail === 1)
        return { reserved: true, reservation: await this.#existing(queue, jobId, { amountMicroUsd, day, month }) };
      return { reserved: true, reservation: { amountMicroUsd, day, month } };
    }
    const window = detail === 1 ? 'day' : 'month';
    return { reserved: false, window, resetsAt: nextWindowStart(window, now) };
  }

  async release(queue: string, jobId: string, reservation: Reservation): Promise<number> {
    const keys = queueKeys(this.#prefix, queue);
    return (await releaseScript.run(
      this.#redis,
      [keys.reservations, keys.budgetDay(reservation.day), keys.budgetMonth(reservation.month)],
      [jobId],
    )) as number;
  }

  /** Totals of the windows containing `at`: what the dashboard and `pnpm stats` show. */
  async usage(queue: string, at = Date.now()): Promise<{ day: WindowUsage; month: WindowUsage }> {
    const keys = queueKeys(this.#prefix, queue);
    const iso = new Date(at).toISOString();
    const [day, month] = await Promise.all([
      this.#redis.hmget(keys.budgetDay(iso.slice(0, 10)), 'reserved', 'spent'),
      this.#redis.hmget(keys.budgetMonth(iso.slice(0, 7)), 'reserved', 'spent'),
    ]);
    const toUsage = ([reserved, spent]: (string | null)[]) => ({
      reservedMicroUsd: Number(reserved ?? 0),
      spentMicroUsd: Number(spent ?? 0),
    });
    return { day: toUsage(day), month: toUsage(month) };
  }

  async #existing(queue: string, jobId: string, fallback: Reservation): Promise<Reservation> {
    const record = await this.#redis.hget(queueKeys(this.#prefix, queue).reservations, jobId);
    if (!record) return fallback;
    const [amount, day, month] = record.split('|');
    return { amountMicroUsd: Number(amount), day, month };
  }
}

export interface WindowUsage {
  reservedMicroUsd: number;
  spentMicroUsd: number;
}

/** One budget window of a queue as it stands: its cap, what is spent and reserved, what remains. */
export interface BudgetStatus {
  policy: 'hold' | 'fail';
  window: 'day' | 'month';
  capMicroUsd: number;
  spentMicroUsd: number;
  reservedMicroUsd: number;
  remainingMicroUsd: number;
}

/** The windows a queue's budget sets (none without a budget), from `BudgetStore.usage`. */
export function budgetStatuses(
  budget: QueueBudget | undefined,
  usage: { day: WindowUsage; month: WindowUsage },
): BudgetStatus[] {
  if (!budget) return [];
  const statuses: BudgetStatus[] = [];
  for (const [window, usd] of [
    ['day', budget.dailyUsd],
    ['month', budget.monthlyUsd],
  ] as const) {
    if (usd === undefined) continue;
    const { spentMicroUsd, reservedMicroUsd } = usage[window];
    const capMicroUsd = usdToMicro(usd);
    statuses.push({
      policy: budget.policy,
      window,
      capMicroUsd,
      spentMicroUsd,
      reservedMicroUsd,
      remainingMicroUsd: Math.max(0, capMicroUsd - spentMicroUsd - reservedMicroUsd),
    });
  }
  return statuses;
}
