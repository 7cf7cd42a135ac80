import { type EditJobData, type EditResult, failureCode, formatMicroUsd, formatTable } from '@runflow-queue/shared';
import type { LedgerRow } from '@runflow-queue/store';
import type { Job, Queue } from 'bullmq';

export interface DemoSummary {
  jobs: number;
  completed: number;
  failed: number;
  lost: number;
  ledgerMicroUsd: number;
  simBilledMicroUsd: number;
  differenceMicroUsd: number;
  p50Ms: number;
  p95Ms: number;
  completedByCallback: number;
  completedByPoll: number;
  failedByCode: Record<string, number>;
  byQueueModel: {
    queue: string;
    model: string;
    jobs: number;
    completed: number;
    failed: number;
    p50Ms: number;
    p95Ms: number;
    ledgerMicroUsd: number;
  }[];
  elapsedMs: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function finishedJobs(queue: Queue<EditJobData, EditResult>, state: 'completed' | 'failed') {
  const jobs: Job<EditJobData, EditResult>[] = [];
  for (let start = 0; ; start += 1000) {
    const page =
      state === 'completed' ? await queue.getCompleted(start, start + 999) : await queue.getFailed(start, start + 999);
    jobs.push(...page);
    if (page.length < 1000) return jobs;
  }
}

export async function summarize(
  queues: Map<string, Queue<EditJobData, EditResult>>,
  enqueued: number,
  ledgerRows: LedgerRow[],
  simBilledMicroUsd: number,
  elapsedMs: number,
): Promise<DemoSummary> {
  const groups = new Map<
    string,
    { queue: string; model: string; latencies: number[]; completed: number; failed: number }
  >();
  const failedByCode: Record<string, number> = {};
  let byCallback = 0;
  let byPoll = 0;
  const all: number[] = [];
  for (const [name, queue] of queues) {
    for (const state of ['completed', 'failed'] as const) {
      for (const job of await finishedJobs(queue, state)) {
        const key = `${name}|${job.data.model}`;
        const group = groups.get(key) ?? { queue: name, model: job.data.model, latencies: [], completed: 0, failed: 0 };
        groups.set(key, group);
        const latency = (job.finishedOn ?? 0) - job.timestamp;
        group.latencies.push(latency);
        all.push(latency);
        if (state === 'completed') {
          group.completed += 1;
          if (job.returnvalue?.completedBy === 'poll') byPoll += 1;
          else byCallback += 1;
        } else {
          group.failed += 1;
          const code = failureCode(job.failedReason) ?? 'UNCODED';
          failedByCode[code] = (failedByCode[code] ?? 0) + 1;
        }
      }
    }
  }
  all.sort((a, b) => a - b);
  const byQueueModel = [...groups.values()]
    .sort((a, b) => a.queue.localeCompare(b.queue) || a.model.localeCompare(b.model))
    .map((group) => {
      const sorted = group.latencies.sort((a, b) => a - b);
      return {
        queue: group.queue,
        model: group.model,
        jobs: group.completed + group.failed,
        completed: group.completed,
        failed: group.failed,
        p50Ms: percentile(sorted, 50),
        p95Ms: percentile(sorted, 95),
        ledgerMicroUsd: ledgerRows
          .filter((row) => row.queue === group.queue && row.model === group.model)
          .reduce((n, row) => n + row.spendMicroUsd, 0),
      };
    });
  const completed = byQueueModel.reduce((n, g) => n + g.completed, 0);
  const failed = byQueueModel.reduce((n, g) => n + g.failed, 0);
  const ledgerMicroUsd = ledgerRows.reduce((n, row) => n + row.spendMicroUsd, 0);
  return {
    jobs: enqueued,
    completed,
    failed,
    lost: enqueued - completed - failed,
    ledgerMicroUsd,
    simBilledMicroUsd,
    differenceMicroUsd: ledgerMicroUsd - simBilledMicroUsd,
    p50Ms: percentile(all, 50),
    p95Ms: percentile(all, 95),
    completedByCallback: byCallback,
    completedByPoll: byPoll,
    failedByCode,
    byQueueModel,
    elapsedMs,
  };
}

export function renderSummary(s: DemoSummary): string {
  const rows = s.byQueueModel.map((g) => [
    g.queue,
    g.model,
    g.jobs,
    g.completed,
    g.failed,
    g.p50Ms,
    g.p95Ms,
    formatMicroUsd(g.ledgerMicroUsd),
  ]);
  rows.push([
    'total',
    '',
    s.completed + s.failed,
    s.completed,
    s.failed,
    s.p50Ms,
    s.p95Ms,
    formatMicroUsd(s.ledgerMicroUsd),
  ]);
  const table = formatTable(
    ['queue', 'model', 'jobs', 'completed', 'failed', 'p50 ms', 'p95 ms', 'spend (ledger)'],
    rows,
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
  const failures = Object.entries(s.failedByCode)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
  const totals = formatTable(
    ['check', 'value'],
    [
      ['jobs enqueued', s.jobs],
      ['lost (not finished)', s.lost],
      ['completed by callback / by poll', `${s.completedByCallback} / ${s.completedByPoll}`],
      ['failed by code', failures || 'none'],
      ['ledger total', formatMicroUsd(s.ledgerMicroUsd)],
      ['simulator billed', formatMicroUsd(s.simBilledMicroUsd)],
      ['difference (µUSD)', s.differenceMicroUsd],
      ['elapsed', `${(s.elapsedMs / 1000).toFixed(1)} s`],
    ],
    ['left', 'right'],
  );
  return `${table}\n\n${totals}`;
}
