import { type AccountHealth, healthRows } from '@runflow-queue/stats';
import { escapeHtml } from './svg-charts.ts';

// The account's holds on the dashboard: a banner on every page that has one (what stops submits, why,
// since when) and the /holds page — the table `runflow-queue health` prints, plus pause / resume
// buttons for the operator (POST /api/holds/pause|resume, JSON, same origin).

const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString());

export const BANNER_STYLE = `.holds-banner{background:#7a1f1f;color:#fff;padding:.6rem 1rem;border-radius:6px;margin:0 0 1rem}
.holds-banner strong{margin-right:.4rem}.holds-banner a{color:#fff}.holds-banner li{margin:.2rem 0}`;

/** The active holds as a red banner; empty when nothing holds submits. */
export function holdsBanner(health: AccountHealth | undefined): string {
  if (!health) return '';
  const { breaker, credit, pauses } = health.holds;
  const items: string[] = [];
  if (breaker.open) {
    items.push(
      `<li data-hold="breaker"><strong>Runflow breaker open</strong>submits and polls held since ${escapeHtml(iso(breaker.since))}: ${escapeHtml(breaker.reason ?? '')}</li>`,
    );
  }
  if (credit.held) {
    items.push(
      `<li data-hold="credit"><strong>Credit spent</strong>no new submits since ${escapeHtml(iso(credit.since))}: ${escapeHtml(credit.reason ?? '')} — top up the Runflow account</li>`,
    );
  }
  for (const pause of pauses) {
    const what = pause.queue === undefined ? 'Account paused' : `Queue ${pause.queue} paused`;
    items.push(
      `<li data-hold="pause"><strong>${escapeHtml(what)}</strong>by ${escapeHtml(pause.by || 'an operator')} since ${escapeHtml(iso(pause.since))}: ${escapeHtml(pause.reason || 'no reason given')}</li>`,
    );
  }
  if (!health.redis.writable) {
    items.push(
      '<li data-hold="redis"><strong>Redis refusing writes</strong>at maxmemory with noeviction: free memory</li>',
    );
  }
  if (items.length === 0) return '';
  return `<div class="holds-banner" data-testid="holds-banner" role="alert"><ul>${items.join('')}</ul><a href="/holds">details</a> · in-flight runs still finish; held jobs wait without using attempts</div>`;
}

export function renderHoldsPage(
  health: AccountHealth,
  options: { operator: boolean; queues: readonly string[] },
): string {
  const rows = healthRows(health)
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.part)}</td><td>${escapeHtml(r.state)}</td><td>${escapeHtml(r.reason)}</td><td>${escapeHtml(iso(r.since))}</td></tr>`,
    )
    .join('\n');
  const queueOptions = [
    '<option value="">the whole account</option>',
    ...options.queues.map((q) => `<option>${escapeHtml(q)}</option>`),
  ].join('');
  const controls = options.operator
    ? `<h2>Pause or resume submits</h2>
<form id="holds-form"><label>which <select name="queue">${queueOptions}</select></label>
<label>reason <input name="reason" maxlength="500" placeholder="why (shown to everyone)"></label>
<button type="submit" data-action="pause">Pause</button> <button type="submit" data-action="resume">Resume</button></form>
<p class="muted">Every worker honours it within a second; runs already on Runflow still finish and settle.</p>
<script>
document.getElementById('holds-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const action = event.submitter.dataset.action;
  const queue = form.queue.value || undefined;
  const body = action === 'pause' ? { queue, reason: form.reason.value } : { queue };
  const response = await fetch('/api/holds/' + action, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) alert((await response.json()).message);
  location.reload();
});
</script>`
    : '<p class="muted">Pausing and resuming needs the operator credential.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10"><title>runflow-queue · holds</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5rem}table{border-collapse:collapse}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}.muted{color:#666}${BANNER_STYLE}</style></head>
<body><h1>runflow-queue · holds</h1><p><a href="/spend">spend</a> · <a href="/queues">Bull Board</a> · <a href="/api/health">/api/health</a></p>
${holdsBanner(health)}
<table data-testid="health-table"><thead><tr><th>part</th><th>state</th><th>reason</th><th>since</th></tr></thead><tbody>
${rows}
</tbody></table>
${controls}
</body></html>`;
}
