// Inline SVG charts for the server-rendered spend page: no front-end build, no script, readable when
// printed. Every chart carries a <title> (hover text, screen readers) with its numbers.

export const COLORS = {
  completed: '#16a34a',
  failed: '#dc2626',
  spent: '#2563eb',
  reserved: '#93c5fd',
  track: '#e5e7eb',
  callback: '#7c3aed',
  poll: '#f59e0b',
  grid: '#d1d5db',
  text: '#4b5563',
} as const;

export function escapeHtml(value: unknown): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/**
 * Jobs per minute, oldest first: one stacked bar per minute (completed under failed), a gridline at the
 * peak, "60 min ago" and "now" under the axis.
 */
export function throughputChart(completed: readonly number[], failed: readonly number[]): string {
  const width = 420;
  const height = 120;
  const top = 14;
  const bottom = 18;
  const plot = height - top - bottom;
  const n = Math.max(completed.length, failed.length, 1);
  const slot = width / n;
  const peak = Math.max(1, ...completed.map((c, i) => c + (failed[i] ?? 0)));
  const scale = (v: number) => (v / peak) * plot;
  const bars: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const ok = completed[i] ?? 0;
    const bad = failed[i] ?? 0;
    if (ok + bad === 0) continue;
    const x = (i * slot + 0.5).toFixed(1);
    const w = Math.max(1, slot - 1).toFixed(1);
    const okH = scale(ok);
    const badH = scale(bad);
    const minutesAgo = n - 1 - i;
    bars.push(
      `<g><title>${minutesAgo === 0 ? 'this minute' : `${minutesAgo} min ago`}: ${ok} completed, ${bad} failed</title>` +
        `<rect x="${x}" y="${(top + plot - okH).toFixed(1)}" width="${w}" height="${okH.toFixed(1)}" fill="${COLORS.completed}"/>` +
        (bad > 0
          ? `<rect x="${x}" y="${(top + plot - okH - badH).toFixed(1)}" width="${w}" height="${badH.toFixed(1)}" fill="${COLORS.failed}"/>`
          : '') +
        '</g>',
    );
  }
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="jobs per minute, last hour">
<line x1="0" x2="${width}" y1="${top}" y2="${top}" stroke="${COLORS.grid}" stroke-dasharray="3 3"/>
<text x="${width}" y="${top - 3}" text-anchor="end" font-size="10" fill="${COLORS.text}">${peak}/min</text>
<line x1="0" x2="${width}" y1="${top + plot}" y2="${top + plot}" stroke="${COLORS.grid}"/>
${bars.join('\n')}
<text x="0" y="${height - 4}" font-size="10" fill="${COLORS.text}">60 min ago</text>
<text x="${width}" y="${height - 4}" text-anchor="end" font-size="10" fill="${COLORS.text}">now</text>
</svg>`;
}

export interface Segment {
  value: number;
  color: string;
  label: string;
}

/** A horizontal bar of `segments` over a track of `total` (segments past the total are clipped). */
export function meterBar(segments: readonly Segment[], total: number, title: string): string {
  const width = 420;
  const height = 16;
  let x = 0;
  const rects = segments.map((s) => {
    const w = total > 0 ? Math.min(width - x, (s.value / total) * width) : 0;
    const rect = `<rect x="${x.toFixed(1)}" y="0" width="${Math.max(0, w).toFixed(1)}" height="${height}" fill="${s.color}"><title>${escapeHtml(s.label)}</title></rect>`;
    x += Math.max(0, w);
    return rect;
  });
  return `<svg class="meter" viewBox="0 0 ${width} ${height}" width="100%" height="${height}" preserveAspectRatio="none" role="img" aria-label="${escapeHtml(title)}">
<title>${escapeHtml(title)}</title>
<rect x="0" y="0" width="${width}" height="${height}" rx="3" fill="${COLORS.track}"/>
${rects.join('')}
</svg>`;
}

/** Labelled horizontal bars, longest first (failures by code, spend by model). */
export function barList(items: readonly { label: string; value: number; shown: string }[], color: string): string {
  if (items.length === 0) return '<p class="muted">none</p>';
  const max = Math.max(...items.map((i) => i.value), 1);
  return `<table class="bars">${items
    .map(
      (i) =>
        `<tr><th>${escapeHtml(i.label)}</th><td><span class="bar" style="width:${Math.max(2, (i.value / max) * 100).toFixed(1)}%;background:${color}"></span></td><td class="num">${escapeHtml(i.shown)}</td></tr>`,
    )
    .join('')}</table>`;
}
