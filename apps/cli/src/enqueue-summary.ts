import type { EditStatus } from '@runflow-queue/producer';
import { formatMicroUsd, formatTable } from '@runflow-queue/shared';

export interface EnqueueCounts {
  enqueued: number;
  deduplicated: number;
  invalid: number;
}

/** The table an enqueue ends with. */
export function renderEnqueueCounts(counts: EnqueueCounts): string {
  return formatTable(
    ['result', 'jobs'],
    [
      ['enqueued', counts.enqueued],
      ['deduplicated', counts.deduplicated],
      ['invalid', counts.invalid],
    ],
    ['left', 'right'],
  );
}

/** Per model: how the waited-for jobs ended and what they cost (µUSD, exact), then failure codes. */
export function renderOutcomes(finished: readonly EditStatus[], unfinished: number): string {
  const byModel = new Map<string, { completed: number; failed: number; images: number; spend: number }>();
  const codes = new Map<string, number>();
  for (const status of finished) {
    const row = byModel.get(status.model) ?? { completed: 0, failed: 0, images: 0, spend: 0 };
    if (status.state === 'completed' && status.result) {
      row.completed += 1;
      row.images += status.result.outputs.length;
      row.spend += status.result.costMicroUsd;
    } else {
      row.failed += 1;
      const code = status.failure?.code ?? 'UNKNOWN';
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    byModel.set(status.model, row);
  }
  const rows = [...byModel].map(([model, r]) => [model, r.completed, r.failed, r.images, formatMicroUsd(r.spend)]);
  const totals = [...byModel.values()].reduce(
    (t, r) => ({
      completed: t.completed + r.completed,
      failed: t.failed + r.failed,
      images: t.images + r.images,
      spend: t.spend + r.spend,
    }),
    { completed: 0, failed: 0, images: 0, spend: 0 },
  );
  rows.push(['total', totals.completed, totals.failed, totals.images, formatMicroUsd(totals.spend)]);
  const parts = [
    formatTable(['model', 'completed', 'failed', 'images', 'spend'], rows, [
      'left',
      'right',
      'right',
      'right',
      'right',
    ]),
  ];
  if (codes.size > 0) {
    parts.push(
      formatTable(
        ['failure code', 'jobs'],
        [...codes].sort((a, b) => b[1] - a[1]),
        ['left', 'right'],
      ),
    );
  }
  if (unfinished > 0) {
    parts.push(`${unfinished} job(s) not finished yet: follow them with runflow-queue status <id> / wait <id>`);
  }
  return parts.join('\n\n');
}
