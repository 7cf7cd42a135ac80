import { formatMicroUsd, formatTable } from '@runflow-queue/shared';
import type { LedgerRow } from '@runflow-queue/store';

/** The ledger as a person reads it: one row per queue/day/model/cost center/caller, then totals per queue. */
export function renderSpend(rows: readonly LedgerRow[]): string {
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
      formatMicroUsd(r.spendMicroUsd),
    ]),
    ['left', 'left', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'],
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
  return `${detail}\n\n${totals}`;
}
