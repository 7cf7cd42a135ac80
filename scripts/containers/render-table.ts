import type { CheckReport } from './check-report.ts';

// The one table `pnpm containers` prints: what ran, what every job became, money, and how long
// each part took.

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const usd = (micro: number | undefined) =>
  micro === undefined ? 'none' : `${micro} µUSD ($${(micro / 1e6).toFixed(2)})`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
const mark = (ok: boolean) => (ok ? 'ok' : 'FAIL');

export function renderTable(report: CheckReport): string {
  const r = report;
  const rows: [string, string, string][] = [
    ['image', `${r.image}, ${mb(r.imageBytes)}`, ''],
    ...r.baseImages.map((b): [string, string, string] => [
      `  base ${b.name}`,
      `${b.source} — ${b.contents}`,
      seconds(b.ms),
    ]),
    ['build (podman build infra/Dockerfile)', seconds(r.buildMs), ''],
    ['stack start (up, all healthy)', seconds(r.startMs), ''],
    [
      'health',
      Object.entries(r.health)
        .map(([service, h]) => `${service} ${h.status}`)
        .join(', '),
      mark(Object.values(r.health).every((h) => h.ok)),
    ],
    [
      'dashboard without credentials',
      String(r.dashboardWithoutCredentials),
      mark(r.dashboardWithoutCredentials === 401),
    ],
    [
      'worker replicas',
      `${r.replicas.initial} → ${r.replicas.scaledTo}, ${r.sigterm.container} SIGTERM → exit ${r.sigterm.exitCode} in ${seconds(r.sigterm.stopMs)}, ${r.replicas.final} left`,
      mark(r.sigterm.exitCode === 0),
    ],
    [
      'jobs (through the api container)',
      `${r.jobs}: ${Object.entries(r.byModel)
        .map(([model, n]) => `${n} ${model}`)
        .join(', ')}`,
      seconds(r.jobsMs),
    ],
    ['  completed', String(r.completed), ''],
    [
      '  failed (with a code)',
      `${r.failed}${
        Object.keys(r.failureCodes).length
          ? ` (${Object.entries(r.failureCodes)
              .map(([c, n]) => `${c} ${n}`)
              .join(', ')})`
          : ''
      }`,
      '',
    ],
    ['  lost', String(r.lost), mark(r.lost === 0 && r.completed + r.failed === r.jobs)],
    ['ledger (runflow-queue spend in a container)', usd(r.ledgerMicroUsd), ''],
    [
      'simulator billing',
      usd(r.simBilledMicroUsd),
      mark(r.ledgerMicroUsd + r.ledgerWasteMicroUsd === r.simBilledMicroUsd),
    ],
    ['prometheus: alerting rules loaded', String(r.prometheus.alertRules), mark(r.prometheus.alertRules > 0)],
    [
      'prometheus: worker targets up',
      String(r.prometheus.workerTargetsUp ?? 0),
      mark(r.prometheus.workerTargetsUp === r.replicas.final),
    ],
    [
      'prometheus: rfq_jobs_total',
      `${r.prometheus.jobsTotal ?? 'none'} of ${r.jobs} (per process; a stopped replica's last jobs go unscraped)`,
      mark((r.prometheus.jobsTotal ?? 0) > 0),
    ],
    [
      'prometheus: rfq_spend_micro_usd_total',
      usd(r.prometheus.spendCounterMicroUsd),
      mark((r.prometheus.spendCounterMicroUsd ?? 0) > 0),
    ],
    [
      'prometheus: rfq_ledger_spend_micro_usd',
      usd(r.prometheus.ledgerGaugeMicroUsd),
      mark(r.prometheus.ledgerGaugeMicroUsd === r.ledgerMicroUsd),
    ],
    [
      'down (volumes kept) + up',
      `${seconds(r.restartMs)}; ${r.jobsAfterRestart.found}/${r.jobs} jobs found, ledger ${r.ledgerAfterRestartMicroUsd} µUSD`,
      mark(r.jobsAfterRestart.found === r.jobs && r.ledgerAfterRestartMicroUsd === r.ledgerMicroUsd),
    ],
    ...Object.entries(r.notStarted).map(([service, why]): [string, string, string] => [
      `not started: ${service}`,
      why,
      '',
    ]),
    ['total', seconds(r.totalMs), r.ok ? 'PASS' : 'FAIL'],
  ];
  const width = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: [string, string, string]) =>
    `${row[0].padEnd(width[0])}  ${row[1].padEnd(width[1])}  ${row[2]}`.trimEnd();
  const rule = '─'.repeat(width[0] + width[1] + width[2] + 4);
  return [rule, ...rows.map(line), rule, ...r.problems.map((p) => `problem: ${p}`)].join('\n');
}
