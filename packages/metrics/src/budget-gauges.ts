import type { Gauge } from 'prom-client';

export interface BudgetWindowStatus {
  window: 'day' | 'month';
  capMicroUsd: number;
  remainingMicroUsd: number;
}

/** Sets `rfq_budget_cap_micro_usd` and `rfq_budget_remaining_micro_usd` for a queue's budget windows. */
export function setBudgetGauges(
  gauges: { budgetCap: Gauge<'queue' | 'window'>; budgetRemaining: Gauge<'queue' | 'window'> },
  queue: string,
  windows: readonly BudgetWindowStatus[],
): void {
  for (const w of windows) {
    gauges.budgetCap.set({ queue, window: w.window }, w.capMicroUsd);
    gauges.budgetRemaining.set({ queue, window: w.window }, w.remainingMicroUsd);
  }
}
