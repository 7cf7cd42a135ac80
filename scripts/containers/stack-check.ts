import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { alertNames } from '../prometheus/rule-tests.ts';
import type { StackResult } from './check-report.ts';
import { parseDotenv, readComposeFile } from './compose-file.ts';
import { planCompose } from './compose-plan.ts';
import { ComposeStack } from './compose-stack.ts';
import { type Api, enqueue, type JobOutcome, readJob, tally, waitForJobs } from './job-traffic.ts';
import { createPodman } from './podman.ts';
import { scalar, waitFor } from './prometheus-query.ts';
import { apiToken, getJson, httpStatus, publishedUrl } from './stack-endpoints.ts';

// The stack half of `pnpm containers`, run by main.ts inside the check's network namespace: compose
// up, jobs end to end while the workers scale and one is SIGTERMed, spend against billing, Prometheus,
// then down (volumes kept) and up again. Writes a StackResult to --result; progress goes to stderr.

const { values } = parseArgs({
  options: {
    project: { type: 'string' },
    root: { type: 'string' },
    conf: { type: 'string' },
    jobs: { type: 'string', default: '60' },
    result: { type: 'string' },
    started: { type: 'string' },
    image: { type: 'string' },
  },
});
const project = values.project!;
const root = values.root!;
const jobs = Number(values.jobs);
const started = Number(values.started ?? Date.now());
const log = (line: string) =>
  process.stderr.write(`containers: [${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s] ${line}\n`);
const podman = createPodman(values.conf!);

const env = parseDotenv(readFileSync(join(root, '.env.example'), 'utf8'));
const NOT_STARTED = { grafana: 'no local image: Debian ships no Grafana and no image registry is reachable' };
const plan = planCompose(readComposeFile(join(root, 'docker-compose.yml')), {
  project,
  projectDir: root,
  env,
  profiles: ['observability'],
  exclude: Object.keys(NOT_STARTED),
  builtImage: values.image,
});
async function check(): Promise<StackResult> {
  const stack = new ComposeStack(plan, podman, log);
  const problems: string[] = [];
  const expect = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
  };

  log(`up: ${plan.services.map((s) => (s.replicas > 1 ? `${s.service}×${s.replicas}` : s.service)).join(', ')}`);
  const startMs = await stack.up();
  log(`stack up in ${(startMs / 1000).toFixed(1)} s`);

  const api: Api = {
    url: publishedUrl(stack, 'api'),
    token: apiToken(stack),
    queue: env.QUEUES?.split(',')[0] || 'edits',
  };
  const health: StackResult['health'] = {};
  for (const [service, path] of [
    ['callback-ingest', '/readyz'],
    ['dashboard', '/healthz'],
    ['api', '/healthz'],
    ['runflow-sim', '/v1/health'],
  ] as const) {
    const status = await httpStatus(`${publishedUrl(stack, service)}${path}`);
    health[service] = { status, ok: status === 200 };
    expect(status === 200, `${service} ${path} answered ${status}, expected 200`);
  }
  const dashboardWithoutCredentials = await httpStatus(`${publishedUrl(stack, 'dashboard')}/`);
  expect(
    dashboardWithoutCredentials === 401,
    `dashboard / without credentials answered ${dashboardWithoutCredentials}, expected 401`,
  );

  // Jobs arrive over ~10 s; a third of the way in the workers go from 3 to 5, two thirds in one of the
  // first three is stopped with SIGTERM (podman stop: the image's STOPSIGNAL, then the file's grace).
  const initialReplicas = stack.service('worker').replicas;
  const scaledTo = 5;
  const runTag = `${project}-${Date.now()}`;
  const ids: string[] = [];
  const jobsStarted = Date.now();
  let sigterm = { container: '', exitCode: -1, stopMs: 0 };
  for (let i = 0; i < jobs; i++) {
    ids.push(await enqueue(api, i, runTag));
    if (i + 1 === Math.floor(jobs / 3)) {
      log(`jobs: ${i + 1}/${jobs} enqueued; scaling worker ${initialReplicas} → ${scaledTo}`);
      await stack.scale('worker', scaledTo);
    }
    if (i + 1 === Math.floor((2 * jobs) / 3)) {
      const container = `${project}-worker-2`;
      log(`jobs: ${i + 1}/${jobs} enqueued; SIGTERM to ${container}`);
      sigterm = { container, ...(await stack.stopReplica('worker', 2)) };
      log(`${container} exited ${sigterm.exitCode} after ${(sigterm.stopMs / 1000).toFixed(1)} s`);
      expect(
        sigterm.exitCode === 0,
        `${container} exited ${sigterm.exitCode} on SIGTERM, expected 0 (a clean shutdown)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  log(`jobs: ${jobs}/${jobs} enqueued through ${api.url}; waiting for their ends`);
  const outcomes = await waitForJobs(api, ids, { timeoutMs: 180_000, log });
  const jobsMs = Date.now() - jobsStarted;
  const counts = tally(outcomes);
  expect(
    counts.lost === 0,
    `${counts.lost} job(s) neither completed nor failed with a code: ${counts.lostJobs.map((j) => `${j.id} (${j.state})`).join(', ')}`,
  );
  expect(
    counts.completed + counts.failed === jobs,
    `completed ${counts.completed} + failed ${counts.failed} ≠ jobs ${jobs}`,
  );

  // The ledger as an operator reads it: `runflow-queue spend` in a container of the image, on the stack's network.
  interface LedgerRow {
    spendMicroUsd: number;
    wasteMicroUsd: number;
  }
  async function ledger(): Promise<{ spend: number; waste: number }> {
    const apiEnv = stack.service('api').environment;
    const out = await podman([
      'run',
      '--rm',
      '--pull',
      'never',
      '--network',
      plan.network,
      '--env',
      `REDIS_URL=${apiEnv.REDIS_URL}`,
      '--env',
      `REDIS_PREFIX=${apiEnv.REDIS_PREFIX}`,
      stack.service('api').image,
      'node',
      'apps/cli/src/main.ts',
      'spend',
      '--json',
    ]);
    const rows = JSON.parse(out) as LedgerRow[];
    return {
      spend: rows.reduce((n, row) => n + row.spendMicroUsd, 0),
      waste: rows.reduce((n, row) => n + row.wasteMicroUsd, 0),
    };
  }
  const before = await ledger();
  const billing = await getJson<{ totalMicroUsd: number }>(`${publishedUrl(stack, 'runflow-sim')}/_sim/billing`);
  expect(
    before.spend + before.waste === billing.totalMicroUsd,
    `ledger ${before.spend} µUSD (+ ${before.waste} waste) ≠ the simulator's billing ${billing.totalMicroUsd} µUSD`,
  );

  // Prometheus scraping the stack (infra/prometheus/prometheus.yml as written: workers by DNS, ingest, dashboard).
  const prom = publishedUrl(stack, 'prometheus');
  log('prometheus: waiting for a scrape after the last job (interval 15 s)');
  const ledgerGaugeMicroUsd = await waitFor(
    prom,
    'sum(rfq_ledger_spend_micro_usd{window="day"})',
    (v) => v === before.spend,
    60_000,
  );
  const rules = await getJson<{ data: { groups: { rules: { type: string }[] }[] } }>(`${prom}/api/v1/rules`);
  const alertRules = rules.data.groups.flatMap((g) => g.rules).filter((r) => r.type === 'alerting').length;
  const written = alertNames(join(root, 'infra/prometheus/alerts.yml')).length;
  expect(
    alertRules === written,
    `Prometheus loaded ${alertRules} alerting rules; infra/prometheus/alerts.yml has ${written}`,
  );
  const workerTargetsUp = await waitFor(prom, 'count(up{job="worker"} == 1)', (v) => v === scaledTo - 1, 45_000);
  // Per-process counters: a replica's jobs after its last scrape (the SIGTERMed one) are never counted.
  const jobsTotal = await waitFor(
    prom,
    'sum(max_over_time(rfq_jobs_total{outcome=~"completed|failed"}[30m]))',
    (v) => v === jobs,
    20_000,
  );
  const spendCounterMicroUsd = await scalar(prom, 'sum(max_over_time(rfq_spend_micro_usd_total[30m]))');
  expect(jobsTotal !== undefined && jobsTotal > 0, `Prometheus has no rfq_jobs_total (got ${jobsTotal})`);
  expect(
    spendCounterMicroUsd !== undefined && spendCounterMicroUsd > 0,
    `Prometheus has no rfq_spend_micro_usd_total (got ${spendCounterMicroUsd})`,
  );
  expect(
    ledgerGaugeMicroUsd === before.spend,
    `Prometheus rfq_ledger_spend_micro_usd ${ledgerGaugeMicroUsd} ≠ ledger ${before.spend}`,
  );
  expect(
    workerTargetsUp === scaledTo - 1,
    `Prometheus sees ${workerTargetsUp} worker targets up, expected ${scaledTo - 1}`,
  );

  // compose down (volumes kept), up again: the jobs and the ledger are Redis's, on its volume (AOF).
  log('down (volumes kept), then up again');
  await stack.down();
  const restartMs = await stack.up();
  const after = await ledger();
  expect(
    after.spend === before.spend && after.waste === before.waste,
    `ledger after down/up ${after.spend} µUSD ≠ before ${before.spend} µUSD`,
  );
  const reread: JobOutcome[] = await Promise.all(ids.map((id) => readJob(api, id)));
  const found = reread.filter((job) => job.state !== 'not found').length;
  const sameState = reread.filter((job, i) => job.state === outcomes[i].state).length;
  expect(found === jobs, `after down/up the API finds ${found} of ${jobs} jobs (Redis data lost?)`);
  expect(sameState === jobs, `after down/up ${jobs - sameState} job(s) changed state`);
  await stack.down();

  const result: StackResult = {
    jobs,
    completed: counts.completed,
    failed: counts.failed,
    lost: counts.lost,
    failureCodes: counts.failureCodes,
    byModel: counts.byModel,
    lostJobs: counts.lostJobs.map(({ id, state }) => ({ id, state })),
    replicas: { initial: initialReplicas, scaledTo, sigtermed: 1, final: scaledTo - 1 },
    sigterm,
    health,
    dashboardWithoutCredentials,
    ledgerMicroUsd: before.spend,
    ledgerWasteMicroUsd: before.waste,
    simBilledMicroUsd: billing.totalMicroUsd,
    ledgerAfterRestartMicroUsd: after.spend,
    jobsAfterRestart: { found, sameState },
    prometheus: { jobsTotal, spendCounterMicroUsd, ledgerGaugeMicroUsd, workerTargetsUp, alertRules },
    notStarted: NOT_STARTED,
    startMs,
    jobsMs,
    restartMs,
    problems,
  };
  return result;
}

try {
  writeFileSync(values.result!, JSON.stringify(await check(), null, 2));
} catch (error) {
  log(`FAILED: ${(error as Error).message}`);
  process.exitCode = 1;
}
