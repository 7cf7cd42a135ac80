import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProducer } from '@runflow-queue/producer';
import { startSim } from '@runflow-queue/runflow-sim';
import { type AppName, type AppProcess, spawnApp } from '@runflow-queue/runtime';
import { type EditJobData, type EditRequestInput, type EditResult, formatMicroUsd } from '@runflow-queue/shared';
import { renderSpend } from '@runflow-queue/stats';
import { SpendLedger } from '@runflow-queue/store';
import {
  freePort,
  type StartedRedis,
  startRedis,
  uniquePrefix,
  waitForHttp,
  waitForRedis,
} from '@runflow-queue/testkit';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { parseDemoArgs } from './demo-args.ts';
import { showLogs } from './pretty-logs.ts';
import { renderSummary, summarize } from './summarize.ts';

const QUEUES = ['catalog', 'thumbnails'];
const SECRET = 'whsec_demo_secret';

async function findOrStartRedis(): Promise<StartedRedis> {
  try {
    return await startRedis();
  } catch (error) {
    // No REDIS_URL, no Docker, no redis-server binary: use a local Redis if one answers.
    try {
      await waitForRedis('redis://127.0.0.1:6379', 1_000);
      return { url: 'redis://127.0.0.1:6379', source: 'env', stop: async () => {} };
    } catch {
      throw error;
    }
  }
}

const DASHBOARD_USER = 'demo';
const DASHBOARD_PASSWORD = 'demo-password';

async function startDashboard(env: Record<string, string>): Promise<{ proc: AppProcess; url: string }> {
  const port = await freePort();
  const proc = start(
    'dashboard',
    { ...env, HOST: '127.0.0.1', PORT: String(port), DASHBOARD_USER, DASHBOARD_PASSWORD },
    'dashboard.log',
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, 15_000);
  console.log(`dashboard  ${url}/spend and ${url}/queues (user ${DASHBOARD_USER}, password ${DASHBOARD_PASSWORD})`);
  return { proc, url };
}

/** The ledger totals of /spend next to `pnpm spend`'s; then the dashboard stays up until Ctrl-C. */
async function showDashboard(dashboard: { proc: AppProcess; url: string }, spendTable: string): Promise<void> {
  const authorization = `Basic ${Buffer.from(`${DASHBOARD_USER}:${DASHBOARD_PASSWORD}`).toString('base64')}`;
  const page = await (await fetch(`${dashboard.url}/spend`, { headers: { authorization } })).text();
  const shown = /data-testid="ledger-total-micro-usd">(\d+)</.exec(page)?.[1];
  const printed = /^total\s+\S+\s+(\d+)\s*$/m.exec(spendTable)?.[1];
  console.log(
    `\ndashboard /spend ledger total: ${shown} µUSD; \`pnpm spend\` total: ${printed} µUSD — ${shown === printed ? 'equal' : 'DIFFERENT'}`,
  );
  console.log(`dashboard still running at ${dashboard.url}/spend — Ctrl-C to stop`);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  await dashboard.proc.stop();
}

function request(i: number): EditRequestInput {
  const image_urls = [`https://picsum.example/photos/${i}.jpg`];
  return i % 2 === 0
    ? {
        model: 'google/nano-banana-pro/edit',
        input: { prompt: `studio light, item ${i}`, image_urls },
        tags: { costCenter: 'catalog-team' },
      }
    : {
        model: 'google/nano-banana-2/edit',
        input: {
          prompt: `square thumbnail ${i}`,
          image_urls,
          num_images: 1 + (i % 3),
          output_format: 'webp',
          ...(i % 5 === 0 ? { enable_web_search: true } : {}),
          ...(i % 7 === 0 ? { thinking_level: 'high' as const } : {}),
        },
      };
}

const args = parseDemoArgs(process.argv.slice(2));
const started = Date.now();
const logDir = mkdtempSync(join(tmpdir(), 'rfq-demo-'));
const redis = await findOrStartRedis();
const prefix = uniquePrefix('demo');
console.log(`redis      ${redis.url} (${redis.source}); key prefix ${prefix}`);

const sim = await startSim({
  latencyMs: { min: 300, max: 2_500 },
  signingSecret: SECRET,
  faults: { createServerError: 0.02, runFailed: 0.02, callbackDrop: 0.05, callbackDuplicate: 0.05 },
});
console.log(`simulator  ${sim.url} (faults: 2% 5xx on create, 2% failed runs, 5% lost and 5% duplicated callbacks)`);

const ingestPort = await freePort();
const children: AppProcess[] = [];
/** One of our apps as a process, its logs in `logFile` (and in this terminal with --logs). */
function start(app: AppName, env: Record<string, string>, logFile: string): AppProcess {
  const proc = spawnApp(app, env, { logFile: join(logDir, logFile), keepBytes: 64_000 });
  children.push(proc);
  return args.logs ? showLogs(proc) : proc;
}
const common = { REDIS_URL: redis.url, REDIS_PREFIX: prefix, QUEUES: QUEUES.join(','), LOG_LEVEL: 'info' };
start(
  'callback-ingest',
  { ...common, PORT: String(ingestPort), HOST: '127.0.0.1', CALLBACK_SECRETS: SECRET },
  'ingest.log',
);
await waitForHttp(`http://127.0.0.1:${ingestPort}/healthz`, 15_000);
const metricsPorts: number[] = [];
for (let i = 0; i < args.workers; i += 1) {
  metricsPorts.push(await freePort());
  start(
    'worker',
    {
      ...common,
      RUNFLOW_BASE_URL: sim.url,
      RUNFLOW_API_KEY: sim.apiKey,
      CALLBACK_URL: `http://127.0.0.1:${ingestPort}/v1/callbacks/runflow`,
      WORKER_CONCURRENCY: '16',
      FIRST_POLL_DELAY_MS: '4000',
      POLL_INTERVAL_MS: '1000',
      // The spend reconciler confirms the callback path's estimates against the simulator's records.
      SPEND_RECONCILE_INTERVAL_MS: '1000',
      METRICS_PORT: String(metricsPorts[i]),
    },
    `worker-${i + 1}.log`,
  );
}
console.log(`processes  callback-ingest :${ingestPort}, ${args.workers} workers; logs in ${logDir}`);
console.log(
  `metrics    ${[`http://127.0.0.1:${ingestPort}/metrics`, ...metricsPorts.map((p) => `http://127.0.0.1:${p}/metrics`)].join(' ')}`,
);
const dashboard = args.dashboard ? await startDashboard(common) : undefined;

const producer = createProducer({ redis: redis.url, prefix });
const queues = new Map<string, Queue<EditJobData, EditResult>>(QUEUES.map((name) => [name, producer.queue(name)]));
let enqueued = 0;
for (let offset = 0; offset < args.jobs; offset += 100) {
  const batch = Array.from({ length: Math.min(100, args.jobs - offset) }, (_, k) => request(offset + k));
  const queue = QUEUES[(offset / 100) % QUEUES.length];
  enqueued += (await producer.enqueueEdits(queue, batch)).length;
}
console.log(`enqueued   ${enqueued} jobs over ${QUEUES.join(', ')}\n`);

const ledgerRedis = new Redis(redis.url);
const ledger = new SpendLedger(ledgerRedis, { prefix });
// With --logs the terminal scrolls, so the progress line is printed, not redrawn in place.
const tty = process.stdout.isTTY && !args.logs;
let lastPrint = 0;
for (;;) {
  let completed = 0;
  let failed = 0;
  let active = 0;
  let parked = 0;
  let waiting = 0;
  for (const queue of queues.values()) {
    const counts = await queue.getJobCounts('completed', 'failed', 'active', 'delayed', 'waiting', 'prioritized');
    completed += counts.completed;
    failed += counts.failed;
    active += counts.active;
    parked += counts.delayed;
    waiting += counts.waiting + counts.prioritized;
  }
  const done = completed + failed >= enqueued;
  const timedOut = Date.now() - started > args.timeoutMs;
  if (tty || done || Date.now() - lastPrint > 2_000) {
    const spend = formatMicroUsd(await ledger.totalMicroUsd(QUEUES));
    const width = 30;
    const filled = Math.round(((completed + failed) / enqueued) * width);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${completed + failed}/${enqueued}  completed ${completed}  failed ${failed}  waiting ${waiting}  active ${active}  parked ${parked}  spend ${spend}`;
    process.stdout.write(tty ? `\r${line}` : `${line}\n`);
    lastPrint = Date.now();
  }
  if (done || timedOut) break;
  await new Promise((resolve) => setTimeout(resolve, 250));
}
process.stdout.write('\n\n');
// Before the workers stop: let the reconciler confirm what the callbacks left as estimates.
for (const until = Date.now() + 15_000; Date.now() < until; ) {
  if ((await ledger.unconfirmedSummary()).count === 0) break;
  await new Promise((resolve) => setTimeout(resolve, 250));
}

await Promise.all(children.filter((proc) => proc !== dashboard?.proc).map((proc) => proc.stop()));
await sim.whenCallbacksSettled();
const ledgerRows = await ledger.rows(QUEUES);
const summary = await summarize(queues, enqueued, ledgerRows, sim.billing().totalMicroUsd, Date.now() - started);
console.log(renderSummary(summary));
console.log(
  `\nspend ledger (the table \`pnpm spend\` prints):\n${renderSpend(ledgerRows, await ledger.unconfirmedSummary())}`,
);
if (args.json) {
  writeFileSync(args.json, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`\nsummary written to ${args.json}`);
}
if (dashboard) await showDashboard(dashboard, renderSpend(ledgerRows));
await producer.close();
await ledgerRedis.quit();
await sim.close();
await redis.stop();

const ok = summary.lost === 0 && summary.differenceMicroUsd === 0;
console.log(
  ok
    ? '\nOK: nothing lost; ledger equals the simulator’s billing.'
    : '\nFAILED: jobs lost or ledger differs from billing.',
);
process.exit(ok ? 0 : 1);
