import { formatMicroUsd, formatTable } from '@runflow-queue/shared';
import type { LedgerRow } from '@runflow-queue/store';

export interface UnconfirmedSummary {
  count: number;
  oldestSettledAtMs: number | undefined;
}

/** "3 runs unconfirmed, the oldest settled 42 s ago" (or "every run confirmed"). */
export function describeUnconfirmed(summary: UnconfirmedSummary, now = Date.now()): string {
  if (summary.count === 0) return 'every settled run is confirmed against Runflow’s record';
  const age = summary.oldestSettledAtMs === undefined ? 0 : Math.max(0, now - summary.oldestSettledAtMs);
  const ageText =
    age < 60_000
      ? `${Math.round(age / 1000)} s`
      : age < 3_600_000
        ? `${Math.round(age / 60_000)} min`
        : `${(age / 3_600_000).toFixed(1)} h`;
  return `${summary.count} run(s) booked from the price table, not yet confirmed against Runflow; the oldest settled ${ageText} ago`;
}

/**
 * The ledger as a person reads it: one row per queue/day/model/cost center/caller (spend = estimates
 * of unconfirmed runs + Runflow's cost of confirmed ones), then totals per queue, then how many runs
 * still wait for Runflow's record.
 */
export function renderSpend(rows: readonly LedgerRow[], unconfirmed?: UnconfirmedSummary, now = Date.now()): string {
  if (rows.length === 0) return 'no spend recorded yet';
  const detail = formatTable(
    [
      'queue',
      'day (UTC)',
      'model',
      'cost center',
      'caller',
      'runs ok',
      'runs failed',
      'images',
      'by callback',
      'by poll',
      'estimated',
      'confirmed',
      'adjustments',
      'unconfirmed',
      'spend',
    ],
    rows.map((r) => [
      r.queue,
      r.day,
      r.model,
      r.costCenter,
      r.caller,
      r.completed,
      r.failed,
      r.images,
      r.byCallback,
      r.byPoll,
      formatMicroUsd(r.estimatedMicroUsd),
      formatMicroUsd(r.confirmedMicroUsd),
      formatMicroUsd(r.adjustmentsMicroUsd),
      r.unconfirmedRuns,
      formatMicroUsd(r.spendMicroUsd),
    ]),
    [
      'left',
      'left',
      'left',
      'left',
      'left',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
    ],
  );
  const perQueue = new Map<string, number>();
  for (const r of rows) perQueue.set(r.queue, (perQueue.get(r.queue) ?? 0) + r.spendMicroUsd);
  const total = [...perQueue.values()].reduce((a, b) => a + b, 0);
  const totals = formatTable(
    ['queue', 'spend', 'µUSD'],
    [
      ...[...perQueue].map(([queue, micro]) => [queue, formatMicroUsd(micro), micro]),
      ['total', formatMicroUsd(total), total],
    ],
    ['left', 'right', 'right'],
  );
  const note = unconfirmed ? `\n\n${describeUnconfirmed(unconfirmed, now)}` : '';
  return `${detail}\n\n${totals}${note}`;
}
