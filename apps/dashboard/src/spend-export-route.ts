import { CSV_HEADER, formatRecord } from '@runflow-queue/stats';
import type { RecordWindow, SpendRecords } from '@runflow-queue/store';

// GET /spend/export.csv?from=YYYY-MM-DD&to=YYYY-MM-DD: the per-run spend records of those billing days
// as `runflow-queue spend export --format csv` writes them, streamed (a month of runs never sits in memory).

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The window a query asks for, or the issue with it (named field, value, what to send). */
export function exportWindow(query: unknown): RecordWindow | { issue: string } {
  const { from, to } = (query ?? {}) as { from?: unknown; to?: unknown };
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (typeof value !== 'string' || !DAY.test(value) || !Number.isFinite(Date.parse(`${value}T00:00:00Z`))) {
      return { issue: `${name}=${JSON.stringify(value ?? null)}: send a UTC day, e.g. ?from=2026-12-01&to=2026-12-03` };
    }
  }
  if ((from as string) > (to as string)) return { issue: `from=${from} is after to=${to}: swap them` };
  return { fromDay: from as string, toDay: to as string };
}

export async function* csvLines(records: SpendRecords, window: RecordWindow): AsyncGenerator<string> {
  yield `${CSV_HEADER}\n`;
  let batch = '';
  let count = 0;
  for await (const record of records.scan(window)) {
    batch += `${formatRecord(record, 'csv')}\n`;
    count += 1;
    if (count % 500 === 0) {
      yield batch;
      batch = '';
    }
  }
  if (batch) yield batch;
}
