import type { ModelId } from '@runflow-queue/shared';

// The simulator's own record of what the account was charged: one entry per succeeded run. This is
// what the spend ledger is reconciled against, so totals are kept in integer µUSD and updated as
// entries arrive (reading them stays cheap at any number of runs).

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
}

export class BillingLedger {
  private readonly entries: BillingEntry[] = [];
  private totalMicroUsd = 0;
  private readonly byModel: Record<string, number> = {};
  private readonly byDay: Record<string, number> = {};
  private readonly byQueue: Record<string, number> = {};

  record(entry: BillingEntry): void {
    this.entries.push(entry);
    this.totalMicroUsd += entry.costMicroUsd;
    addTo(this.byModel, entry.model, entry.costMicroUsd);
    addTo(this.byDay, entry.day, entry.costMicroUsd);
    const queue = entry.metadata?.queue;
    if (typeof queue === 'string') addTo(this.byQueue, queue, entry.costMicroUsd);
  }

  snapshot(): SimBilling {
    return {
      entries: this.entries.map((entry) => ({ ...entry })),
      totalMicroUsd: this.totalMicroUsd,
      byModel: { ...this.byModel },
      byDay: { ...this.byDay },
      byQueue: { ...this.byQueue },
    };
  }
}

function addTo(totals: Record<string, number>, key: string, micro: number): void {
  totals[key] = (totals[key] ?? 0) + micro;
}
