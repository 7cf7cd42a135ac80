import {
  bookedMicroUsd,
  type LedgerRow,
  type RecordWindow,
  type SpendLedger,
  type SpendRecord,
  type SpendRecords,
} from '@runflow-queue/store';

// The per-run spend records as finance reads them: CSV (one header line, RFC 4180 quoting, and a
// leading `'` on any cell a spreadsheet would run as a formula) or JSON lines; streamed record by
// record, with the totals at the end checked against the ledger for the same window.

export type ExportFormat = 'csv' | 'jsonl';

const COLUMNS = [
  'run_id',
  'job_id',
  'queue',
  'model',
  'cost_center',
  'caller',
  'day',
  'outcome',
  'images',
  'estimated_micro_usd',
  'confirmed_micro_usd',
  'adjustment_micro_usd',
  'booked_micro_usd',
  'state',
  'path',
  'settled_at',
] as const;

export const CSV_HEADER = COLUMNS.join(',');

function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  // A cell starting like a formula (=, +, -, @, tab, CR) is a spreadsheet injection: shown as text.
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text) && text !== '-') text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function exportRow(record: SpendRecord): Record<(typeof COLUMNS)[number], string | number | null> {
  return {
    run_id: record.runId,
    job_id: record.jobId,
    queue: record.queue,
    model: record.model,
    cost_center: record.costCenter,
    caller: record.caller,
    day: record.day,
    outcome: record.outcome,
    images: record.images,
    estimated_micro_usd: record.estimatedMicroUsd,
    confirmed_micro_usd: record.confirmedMicroUsd,
    adjustment_micro_usd: record.adjustmentMicroUsd,
    booked_micro_usd: bookedMicroUsd(record),
    state: record.state,
    path: record.path,
    settled_at: new Date(record.settledAtMs).toISOString(),
  };
}

export function formatRecord(record: SpendRecord, format: ExportFormat): string {
  const row = exportRow(record);
  if (format === 'jsonl') return JSON.stringify(row);
  return COLUMNS.map((column) => csvCell(row[column])).join(',');
}

export interface ExportSummary {
  fromDay: string;
  toDay: string;
  runs: number;
  /** Σ booked over the exported records, µUSD. */
  exportTotalMicroUsd: number;
  /** The ledger's spend over the same days and queues, µUSD. */
  ledgerMicroUsd: number;
  estimatedMicroUsd: number;
  confirmedMicroUsd: number;
  adjustmentsMicroUsd: number;
  unconfirmedRuns: number;
  /** exportTotalMicroUsd === ledgerMicroUsd. */
  equal: boolean;
}

/** Ledger rows inside the window's days (and queues). */
export function rowsInWindow(rows: readonly LedgerRow[], window: RecordWindow): LedgerRow[] {
  return rows.filter(
    (row) =>
      row.day >= window.fromDay && row.day <= window.toDay && (!window.queues || window.queues.includes(row.queue)),
  );
}

/**
 * Writes every record of the window (header first for CSV) through `write`, then answers the totals
 * against the ledger. `onProgress` gets the count written so far, now and then.
 */
export async function exportSpend(
  sources: { records: SpendRecords; ledger: SpendLedger },
  window: RecordWindow,
  format: ExportFormat,
  write: (line: string) => void | Promise<void>,
  onProgress?: (written: number) => void,
): Promise<ExportSummary> {
  const summary: ExportSummary = {
    fromDay: window.fromDay,
    toDay: window.toDay,
    runs: 0,
    exportTotalMicroUsd: 0,
    ledgerMicroUsd: 0,
    estimatedMicroUsd: 0,
    confirmedMicroUsd: 0,
    adjustmentsMicroUsd: 0,
    unconfirmedRuns: 0,
    equal: false,
  };
  if (format === 'csv') await write(CSV_HEADER);
  for await (const record of sources.records.scan(window)) {
    await write(formatRecord(record, format));
    summary.runs += 1;
    summary.exportTotalMicroUsd += bookedMicroUsd(record);
    if (summary.runs % 10_000 === 0) onProgress?.(summary.runs);
  }
  onProgress?.(summary.runs);
  for (const row of rowsInWindow(await sources.ledger.rows(window.queues), window)) {
    summary.ledgerMicroUsd += row.spendMicroUsd;
    summary.estimatedMicroUsd += row.estimatedMicroUsd;
    summary.confirmedMicroUsd += row.confirmedMicroUsd;
    summary.adjustmentsMicroUsd += row.adjustmentsMicroUsd;
    summary.unconfirmedRuns += row.unconfirmedRuns;
  }
  summary.equal = summary.exportTotalMicroUsd === summary.ledgerMicroUsd;
  return summary;
}
