import type { ModelId } from '@runflow-queue/shared';

// The simulator's own record of what the account was charged: one entry per succeeded run. This is
// what the spend ledger is reconciled against, so totals are kept in integer µUSD and updated as
// entries arrive (reading them stays cheap at any number of runs). It also keeps the account's prepaid
// balance when one is set (runflow-api.md §7): each billed run debits it, in-flight runs finish even
// when that takes it below zero, and a create is refused 402 INSUFFICIENT_CREDIT while it is ≤ 0.

export interface BillingEntry {
  runId: string;
  model: ModelId;
  /** UTC day of completion, YYYY-MM-DD: the day whose price applied. */
  day: string;
  images: number;
  costMicroUsd: number;
  clientRef: string | null;
  metadata: Record<string, unknown> | null;
}

export interface SimBilling {
  entries: BillingEntry[];
  totalMicroUsd: number;
  byModel: Record<string, number>;
  byDay: Record<string, number>;
  /** From `metadata.queue` when it is a string; runs without one are not in this map. */
  byQueue: Record<string, number>;
  /** The prepaid balance left, µUSD; null when the account has no balance limit (the default). */
  balanceMicroUsd: number | null;
}

export class BillingLedger {
  private readonly entries: BillingEntry[] = [];
  private totalMicroUsd = 0;
  private readonly byModel: Record<string, number> = {};
  private readonly byDay: Record<string, number> = {};
  private readonly byQueue: Record<string, number> = {};
  private balance: number | null;

  constructor(balanceMicroUsd: number | null = null) {
    this.balance = balanceMicroUsd;
  }

  record(entry: BillingEntry): void {
    this.entries.push(entry);
    this.totalMicroUsd += entry.costMicroUsd;
    if (this.balance !== null) this.balance -= entry.costMicroUsd;
    addTo(this.byModel, entry.model, entry.costMicroUsd);
    addTo(this.byDay, entry.day, entry.costMicroUsd);
    const queue = entry.metadata?.queue;
    if (typeof queue === 'string') addTo(this.byQueue, queue, entry.costMicroUsd);
  }

  /** The balance left, µUSD, or null without a limit. */
  get balanceMicroUsd(): number | null {
    return this.balance;
  }

  /** True while creates are refused: a balance is set and spent. */
  get outOfCredit(): boolean {
    return this.balance !== null && this.balance <= 0;
  }

  /** Sets the balance (null removes the limit). */
  setBalance(microUsd: number | null): void {
    this.balance = microUsd;
  }

  /** Adds credit; on an account without a limit it starts one at `microUsd`. */
  topUp(microUsd: number): number {
    this.balance = (this.balance ?? 0) + microUsd;
    return this.balance;
  }

  snapshot(): SimBilling {
    return {
      entries: this.entries.map((entry) => ({ ...entry })),
      totalMicroUsd: this.totalMicroUsd,
      byModel: { ...this.byModel },
      byDay: { ...this.byDay },
      byQueue: { ...this.byQueue },
      balanceMicroUsd: this.balance,
    };
  }
}

function addTo(totals: Record<string, number>, key: string, micro: number): void {
  totals[key] = (totals[key] ?? 0) + micro;
}
