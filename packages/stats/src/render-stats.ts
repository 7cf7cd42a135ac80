import { formatMicroUsd, formatTable } from '@runflow-queue/shared';
import type { FleetStats } from './collect-stats.ts';

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** The fleet's stats as tables a person reads in a terminal (`pnpm stats`). */
export function renderStats(stats: FleetStats): string {
  if (stats.queues.length === 0) return 'no queues yet';
  const queues = formatTable(
    [
      'queue',
      'waiting',
      'active',
      'parked',
      'completed',
      'failed',
      'done/min (1m)',
      'done/min (60m avg)',
      'p50 run ms',
      'p95 run ms',
    ],
    stats.queues.map((q) => [
      q.queue,
      q.counts.waiting,
      q.counts.active,
      q.counts.parked,
      q.counts.completed,
      q.counts.failed,
      q.completedPerMinute.at(-1) ?? 0,
      Math.round((sum(q.completedPerMinute) / 60) * 10) / 10,
      q.recent.p50RunMs,
      q.recent.p95RunMs,
    ]),
  );
  const money = formatTable(
    ['queue', 'spend today', 'spend month', 'waste', 'by callback', 'by poll', 'callbacks dup', 'failures by code'],
    stats.queues.map((q) => [
      q.queue,
      formatMicroUsd(q.spend.todayMicroUsd),
      formatMicroUsd(q.spend.monthMicroUsd),
      formatMicroUsd(q.spend.wasteMicroUsd),
      q.completions.byCallback,
      q.completions.byPoll,
      q.callbacks.duplicate,
      Object.entries(q.recent.failuresByCode)
        .map(([code, n]) => `${code} ${n}`)
        .join(', ') || '-',
    ]),
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
  );
  const budgetRows = stats.queues.flatMap((q) =>
    q.budgets.map((b) => [
      q.queue,
      b.window,
      b.policy,
      formatMicroUsd(b.capMicroUsd),
      formatMicroUsd(b.spentMicroUsd),
      formatMicroUsd(b.reservedMicroUsd),
      formatMicroUsd(b.remainingMicroUsd),
    ]),
  );
  const budgets =
    budgetRows.length === 0
      ? 'no budgets configured'
      : formatTable(['queue', 'window', 'policy', 'cap', 'spent', 'reserved', 'remaining'], budgetRows, [
          'left',
          'left',
          'left',
          'right',
          'right',
          'right',
          'right',
        ]);
  const inflight = Object.entries(stats.inflightByModel);
  const caps = inflight.length === 0 ? '' : `\n\n${formatTable(['model', 'runs in flight (capped)'], inflight)}`;
  return `${queues}\n\n${money}\n\n${budgets}${caps}`;
}
