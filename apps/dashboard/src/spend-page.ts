import { formatMicroUsd } from '@runflow-queue/shared';
import {
  type BudgetStatus,
  describeUnconfirmed,
  type FleetStats,
  type QueueStats,
  type UnconfirmedSummary,
} from '@runflow-queue/stats';
import type { LedgerRow } from '@runflow-queue/store';
import { BANNER_STYLE } from './holds-page.ts';
import { barList, COLORS, escapeHtml, meterBar, throughputChart } from './svg-charts.ts';

// The spend and throughput page: per queue what `pnpm stats` prints, drawn; then the ledger exactly as
// `pnpm spend` prints it. Both come from the same collectStats / SpendLedger calls as /api/stats and
// /api/spend, so the page, the JSON and the CLI cannot disagree.

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

function formatMs(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${Math.round((part / whole) * 100)}%` : '–';
}

function tile(label: string, value: string, options: { testId?: string; note?: string; tone?: string } = {}): string {
  const testId = options.testId ? ` data-testid="${escapeHtml(options.testId)}"` : '';
  const tone = options.tone ? ` ${options.tone}` : '';
  return `<div class="tile${tone}"><div class="label">${escapeHtml(label)}</div><div class="value"${testId}>${escapeHtml(value)}</div>${
    options.note ? `<div class="note">${escapeHtml(options.note)}</div>` : ''
  }</div>`;
}

function budgetBlock(queue: string, budget: BudgetStatus): string {
  const window = budget.window === 'day' ? 'today' : 'this month';
  const used = budget.spentMicroUsd + budget.reservedMicroUsd;
  const title = `${formatMicroUsd(budget.spentMicroUsd)} spent and ${formatMicroUsd(budget.reservedMicroUsd)} reserved of ${formatMicroUsd(budget.capMicroUsd)} ${window}`;
  const tone = used >= budget.capMicroUsd ? 'over' : used >= 0.8 * budget.capMicroUsd ? 'near' : '';
  return `<div class="budget ${tone}" data-testid="budget-${escapeHtml(queue)}-${budget.window}">
<div class="row"><strong>${escapeHtml(formatMicroUsd(budget.spentMicroUsd))}</strong> of ${escapeHtml(formatMicroUsd(budget.capMicroUsd))} ${window}
<span class="muted">(${percent(budget.spentMicroUsd, budget.capMicroUsd)}; policy ${escapeHtml(budget.policy)})</span></div>
${meterBar(
  [
    { value: budget.spentMicroUsd, color: COLORS.spent, label: `spent ${formatMicroUsd(budget.spentMicroUsd)}` },
    {
      value: budget.reservedMicroUsd,
      color: COLORS.reserved,
      label: `reserved ${formatMicroUsd(budget.reservedMicroUsd)}`,
    },
  ],
  budget.capMicroUsd,
  title,
)}
<div class="row muted">${escapeHtml(formatMicroUsd(budget.reservedMicroUsd))} reserved by jobs in flight · <strong>${escapeHtml(formatMicroUsd(budget.remainingMicroUsd))}</strong> left</div>
</div>`;
}

function queueSection(q: QueueStats, ledgerMicroUsd: number): string {
  const done = sum(q.completedPerMinute);
  const failed = sum(q.failedPerMinute);
  const peak = Math.max(0, ...q.completedPerMinute.map((c, i) => c + (q.failedPerMinute[i] ?? 0)));
  const completions = q.completions.byCallback + q.completions.byPoll;
  const failures = Object.entries(q.recent.failuresByCode)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => ({ label: code, value: n, shown: String(n) }));
  const byModel = Object.entries(q.spend.byModelToday)
    .sort((a, b) => b[1] - a[1])
    .map(([model, micro]) => ({ label: model, value: micro, shown: formatMicroUsd(micro) }));
  const name = escapeHtml(q.queue);
  return `<section class="queue" data-queue="${name}" id="queue-${name}">
<h2>${name} <a class="small" href="/queues/queue/${encodeURIComponent(q.queue)}">open in Bull Board →</a></h2>
<div class="tiles">
${tile('waiting', String(q.counts.waiting), { testId: `waiting-${q.queue}` })}
${tile('active', String(q.counts.active), { testId: `active-${q.queue}` })}
${tile('runs in flight (parked)', String(q.counts.parked), { testId: `parked-${q.queue}`, note: 'on Runflow, no worker held' })}
${tile('completed', String(q.counts.completed), { testId: `completed-${q.queue}`, tone: 'good' })}
${tile('failed', String(q.counts.failed), { testId: `failed-${q.queue}`, tone: q.counts.failed > 0 ? 'bad' : '' })}
${tile('spend today', formatMicroUsd(q.spend.todayMicroUsd), { testId: `spend-today-${q.queue}` })}
${tile('spend this month', formatMicroUsd(q.spend.monthMicroUsd), { testId: `spend-month-${q.queue}` })}
${tile('ledger, all days', formatMicroUsd(ledgerMicroUsd), { testId: `ledger-total-${q.queue}`, note: q.spend.wasteMicroUsd > 0 ? `waste ${formatMicroUsd(q.spend.wasteMicroUsd)}` : undefined })}
</div>
<div class="panels">
<div class="panel wide"><h3>Jobs per minute, last hour</h3>
<p class="muted"><span class="key" style="background:${COLORS.completed}"></span>${done} completed <span class="key" style="background:${COLORS.failed}"></span>${failed} failed · ${(done / 60).toFixed(1)}/min average · peak ${peak}/min</p>
${throughputChart(q.completedPerMinute, q.failedPerMinute)}</div>
<div class="panel"><h3>Spend against budget</h3>
${q.budgets.length === 0 ? `<p class="muted">no budget configured (spend today ${escapeHtml(formatMicroUsd(q.spend.todayMicroUsd))}, this month ${escapeHtml(formatMicroUsd(q.spend.monthMicroUsd))})</p>` : q.budgets.map((b) => budgetBlock(q.queue, b)).join('\n')}
<h4>Spend today by model</h4>${barList(byModel, COLORS.spent)}</div>
<div class="panel"><h3>Completions: callback vs poll</h3>
<p><strong data-testid="by-callback-${name}">${q.completions.byCallback}</strong> by callback (${percent(q.completions.byCallback, completions)}) · <strong data-testid="by-poll-${name}">${q.completions.byPoll}</strong> by poll (${percent(q.completions.byPoll, completions)})</p>
${meterBar(
  [
    { value: q.completions.byCallback, color: COLORS.callback, label: `${q.completions.byCallback} by callback` },
    { value: q.completions.byPoll, color: COLORS.poll, label: `${q.completions.byPoll} by poll` },
  ],
  completions,
  'completions by callback vs poll',
)}
<p class="muted">callbacks received ${q.callbacks.received}, duplicates ${q.callbacks.duplicate}, unmatched ${q.callbacks.unmatched}. A rising poll share means callbacks are not arriving.</p></div>
<div class="panel"><h3>Run time</h3>
<div class="tiles">
${tile('p50 run', formatMs(q.recent.p50RunMs), { testId: `p50-run-${q.queue}` })}
${tile('p95 run', formatMs(q.recent.p95RunMs), { testId: `p95-run-${q.queue}` })}
${tile('p50 end to end', formatMs(q.recent.p50EndToEndMs))}
${tile('p95 end to end', formatMs(q.recent.p95EndToEndMs))}
</div><p class="muted">run = submit → result; end to end = enqueue → done; over the last ${q.recent.sampled} finished jobs</p></div>
<div class="panel"><h3>Failures by code</h3>${barList(failures, COLORS.failed)}</div>
</div>
</section>`;
}

function ledgerTable(rows: readonly LedgerRow[]): string {
  if (rows.length === 0) return '<p class="muted">no spend recorded yet</p>';
  const perQueue = new Map<string, number>();
  for (const r of rows) perQueue.set(r.queue, (perQueue.get(r.queue) ?? 0) + r.spendMicroUsd);
  const total = sum([...perQueue.values()]);
  const detail = rows
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.queue)}</td><td>${escapeHtml(r.day)}</td><td>${escapeHtml(r.model)}</td><td>${escapeHtml(r.costCenter)}</td><td>${escapeHtml(r.caller)}</td><td class="num">${r.completed}</td><td class="num">${r.failed}</td><td class="num">${r.images}</td><td class="num">${r.byCallback}</td><td class="num">${r.byPoll}</td><td class="num">${escapeHtml(formatMicroUsd(r.estimatedMicroUsd))}</td><td class="num">${escapeHtml(formatMicroUsd(r.confirmedMicroUsd))}</td><td class="num">${escapeHtml(formatMicroUsd(r.adjustmentsMicroUsd))}</td><td class="num">${r.unconfirmedRuns}</td><td class="num">${escapeHtml(formatMicroUsd(r.spendMicroUsd))}</td></tr>`,
    )
    .join('\n');
  const totals = [...perQueue]
    .map(
      ([queue, micro]) =>
        `<tr data-testid="ledger-queue-${escapeHtml(queue)}"><td>${escapeHtml(queue)}</td><td class="num">${escapeHtml(formatMicroUsd(micro))}</td><td class="num">${micro}</td></tr>`,
    )
    .join('\n');
  return `<table class="ledger" data-testid="ledger-detail"><thead><tr><th>queue</th><th>day (UTC)</th><th>model</th><th>cost center</th><th>caller</th><th>runs ok</th><th>runs failed</th><th>images</th><th>by callback</th><th>by poll</th><th>estimated</th><th>confirmed</th><th>adjustments</th><th>unconfirmed</th><th>spend</th></tr></thead>
<tbody>${detail}</tbody></table>
<table class="ledger totals"><thead><tr><th>queue</th><th>spend</th><th>µUSD</th></tr></thead>
<tbody>${totals}
<tr class="total" data-testid="ledger-total"><td>total</td><td class="num" data-testid="ledger-total-usd">${escapeHtml(formatMicroUsd(total))}</td><td class="num" data-testid="ledger-total-micro-usd">${total}</td></tr></tbody></table>`;
}

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827;background:#f3f4f6}
header{display:flex;align-items:baseline;gap:16px;padding:14px 24px;background:#111827;color:#f9fafb}header h1{font-size:18px;margin:0}
header a{color:#93c5fd}header .muted{color:#9ca3af}main{padding:16px 24px;max-width:1400px}
.muted{color:#6b7280}.small{font-size:12px;font-weight:normal}a{color:#2563eb}
.tiles{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}.tile{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:8px 12px;min-width:120px}
.tile .label{font-size:12px;color:#6b7280}.tile .value{font-size:20px;font-weight:600;font-variant-numeric:tabular-nums}.tile .note{font-size:11px;color:#6b7280}
.tile.good .value{color:#15803d}.tile.bad .value{color:#b91c1c}
section.queue{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px 16px;margin:16px 0}
section.queue h2{margin:0 0 4px;font-size:17px}section.queue .tiles .tile{background:#f9fafb}
.panels{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:12px}.panel{border:1px solid #e5e7eb;border-radius:6px;padding:10px 12px}
.panel .tiles .tile{min-width:0;flex:1 1 80px;padding:6px 8px}.panel .tiles .tile .value{font-size:17px}
.panel h3{margin:0 0 6px;font-size:14px}.panel h4{margin:10px 0 4px;font-size:12px;color:#374151}
.chart{display:block;max-height:150px}.meter{display:block;margin:4px 0;border-radius:3px}
.key{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 8px;vertical-align:-1px}
.budget{margin-bottom:8px}.budget.near strong{color:#b45309}.budget.over strong{color:#b91c1c}
table.bars{width:100%;border-collapse:collapse}table.bars th{text-align:left;font-weight:normal;white-space:nowrap;padding:2px 8px 2px 0;width:1%}
table.bars td{padding:2px 0}table.bars .bar{display:block;height:12px;border-radius:2px}table.bars td.num{width:1%;white-space:nowrap;padding-left:8px}
table.ledger{border-collapse:collapse;background:#fff;margin:8px 0 16px;font-variant-numeric:tabular-nums}
table.ledger th,table.ledger td{border:1px solid #e5e7eb;padding:4px 10px;text-align:left}table.ledger th{background:#f9fafb;font-weight:600}
td.num{text-align:right}tr.total td{font-weight:700}
`;

export interface SpendPageInput {
  stats: FleetStats;
  rows: readonly LedgerRow[];
  /** Runs booked from the price table and not yet confirmed against Runflow. */
  unconfirmed?: UnconfirmedSummary;
  /** Seconds between reloads (0: never). */
  refreshSeconds?: number;
  /** The holds banner (holds-page.ts), shown above everything; empty when nothing holds submits. */
  banner?: string;
}

/** The whole page as one HTML document. */
/** Unconfirmed runs (count, age) and the per-run CSV export for a window of days. */
function reconcileBlock(unconfirmed: UnconfirmedSummary | undefined, today: string): string {
  const status = unconfirmed
    ? `<p data-testid="unconfirmed-runs" data-count="${unconfirmed.count}">${escapeHtml(describeUnconfirmed(unconfirmed))}</p>`
    : '';
  return `${status}<form class="export" method="get" action="/spend/export.csv" data-testid="spend-export">
<label>per-run records from <input type="date" name="from" value="${today}" required></label>
<label>to <input type="date" name="to" value="${today}" required></label>
<button type="submit">Download CSV</button> <span class="muted small">the same records as <code>runflow-queue spend export</code>; their total equals the ledger for the same days</span></form>`;
}

export function renderSpendPage({
  stats,
  rows,
  unconfirmed,
  refreshSeconds = 30,
  banner = '',
}: SpendPageInput): string {
  const ledgerByQueue = new Map<string, number>();
  for (const r of rows) ledgerByQueue.set(r.queue, (ledgerByQueue.get(r.queue) ?? 0) + r.spendMicroUsd);
  const today = sum(stats.queues.map((q) => q.spend.todayMicroUsd));
  const month = sum(stats.queues.map((q) => q.spend.monthMicroUsd));
  const parked = sum(stats.queues.map((q) => q.counts.parked));
  const waiting = sum(stats.queues.map((q) => q.counts.waiting));
  const doneHour = sum(stats.queues.map((q) => sum(q.completedPerMinute)));
  const failedHour = sum(stats.queues.map((q) => sum(q.failedPerMinute)));
  const refresh = refreshSeconds > 0 ? `<meta http-equiv="refresh" content="${refreshSeconds}">` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">${refresh}
<title>runflow-queue · spend and throughput</title><style>${STYLE}${BANNER_STYLE}</style></head>
<body><header><h1>runflow-queue · spend and throughput</h1><a href="/queues">Bull Board</a><a href="/api/stats">/api/stats</a><a href="/api/spend">/api/spend</a><a href="/holds">holds</a>
<span class="muted">as of ${escapeHtml(stats.generatedAt)} (UTC days)${refreshSeconds > 0 ? ` · reloads every ${refreshSeconds} s` : ''}</span></header>
<main>
${banner}
<div class="tiles">
${tile('spend today, all queues', formatMicroUsd(today), { testId: 'spend-today-total' })}
${tile('spend this month', formatMicroUsd(month), { testId: 'spend-month-total' })}
${tile('runs in flight (parked)', String(parked), { testId: 'parked-total' })}
${tile('waiting for a worker', String(waiting), { testId: 'waiting-total' })}
${tile('completed, last hour', String(doneHour), { tone: 'good' })}
${tile('failed, last hour', String(failedHour), { tone: failedHour > 0 ? 'bad' : '' })}
</div>
${stats.queues.length === 0 ? '<p class="muted">no queues yet</p>' : stats.queues.map((q) => queueSection(q, ledgerByQueue.get(q.queue) ?? 0)).join('\n')}
<h2>Spend ledger <span class="small muted">per queue / UTC day / model / cost center — the table <code>pnpm spend</code> prints</span></h2>
${ledgerTable(rows)}
${reconcileBlock(unconfirmed, stats.generatedAt.slice(0, 10))}
</main></body></html>`;
}
