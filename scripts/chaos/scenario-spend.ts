import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { createProducer, type EditProducer } from '@runflow-queue/producer';
import type { SimOptions } from '@runflow-queue/runflow-sim';
import type { EditRequestInput, WorkloadsConfigInput } from '@runflow-queue/shared';
import { BalanceSamples, openQueue, SpendLedger } from '@runflow-queue/store';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ChaosFleet } from './chaos-fleet.ts';
import { SECRETS } from './run-chaos.ts';
import { collectSpendFacts, renderSpendReport, type SpendReport, spendVerdict } from './spend-verdict.ts';

// `pnpm chaos --scenario spend`: spend that finance can sign, under fire. The simulator bills its own
// way (no surcharges, its own resolution tiers) while the jobs ask for surcharges and tiers; about half
// the callbacks are dropped, so half the jobs finish by callback (estimated, then confirmed by the
// reconciler) and half by poll (Runflow's cost at once); Redis is SIGKILLed once mid-run (AOF
// everysec: its last second is lost). It passes only when, after the reconciler has run, the ledger
// equals what the simulator billed, no run is unconfirmed or settled twice, and an export of the
// window adds up to the ledger.

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export const SPEND_QUEUES = ['catalog', 'thumbnails'];

/** The simulated Runflow's own prices: what the ledger must end up with, not our table's. */
export const SPEND_SIM_PRICING: NonNullable<SimOptions['pricing']> = {
  surcharges: 'none',
  tierPriceMicroUsd: {
    'google/nano-banana-2/edit': { '0.5K': 60_000, '2K': 120_000, '4K': 160_000 },
    'google/nano-banana-pro/edit': { '4K': 300_000 },
  },
};

export interface SpendScenarioOptions {
  jobs: number;
  workers?: number | undefined;
  json?: string | undefined;
  logDir: string;
  log: (line: string) => void;
}

/** Every job asks for something our table prices differently from the simulator: surcharges or a tier. */
export function spendRequest(i: number): EditRequestInput {
  const image_urls = [`https://cdn.example.com/spend/${i}.jpg`];
  const idempotencyKey = `spend-${i}`;
  if (i % 3 === 0) {
    return {
      model: 'google/nano-banana-pro/edit',
      input: { prompt: `studio light ${i}`, image_urls, ...(i % 2 === 0 ? { resolution: '4K' as const } : {}) },
      idempotencyKey,
      tags: { costCenter: 'brand' },
    };
  }
  const tiers = ['0.5K', '1K', '2K', '4K'] as const;
  return {
    model: 'google/nano-banana-2/edit',
    input: {
      prompt: `thumbnail ${i}`,
      image_urls,
      num_images: 1 + (i % 3),
      resolution: tiers[i % 4],
      ...(i % 2 === 0 ? { thinking_level: 'high' as const } : {}),
      ...(i % 5 === 0 ? { enable_web_search: true } : {}),
    },
    idempotencyKey,
    tags: { costCenter: i % 4 === 0 ? 'growth' : 'catalog-team' },
  };
}

const WORKLOADS: WorkloadsConfigInput = {
  rateLimit: { requestsPerSecond: 300, burst: 60 },
  queues: [
    { name: 'catalog', concurrency: 16, share: 2 },
    // A budget that never binds: reservations turn into spend through the split settle (two slots).
    { name: 'thumbnails', concurrency: 16, share: 1, budget: { dailyUsd: 1_000_000, policy: 'fail' } },
  ],
};

export async function runSpendScenario(options: SpendScenarioOptions): Promise<SpendReport> {
  const { jobs, log } = options;
  const enqueueWindowMs = Math.max(8_000, Math.round((jobs / 40) * 1000));
  const started = Date.now();
  const fleet = await ChaosFleet.start({
    logDir: options.logDir,
    queues: SPEND_QUEUES,
    workers: options.workers ?? 3,
    workloads: WORKLOADS,
    secrets: SECRETS,
    workerEnv: {
      FIRST_POLL_DELAY_MS: '1500',
      POLL_INTERVAL_MS: '1000',
      MAX_POLL_INTERVAL_MS: '4000',
      AMBIGUOUS_GRACE_MS: '2000',
      LOCK_DURATION_MS: '5000',
      RUNFLOW_TIMEOUT_MS: '10000',
      SHUTDOWN_GRACE_MS: '10000',
      SPEND_RECONCILE_INTERVAL_MS: '1000',
      SPEND_HEAL_LAG_MS: '3000',
      SPEND_BALANCE_SAMPLE_MS: '2000',
    },
    sim: {
      latencyMs: { min: 200, max: 1_000 },
      // Half the callbacks never come: those jobs finish by poll.
      faults: { callbackDrop: 0.5, callbackDuplicate: 0.05, runFailed: 0.02, getServerError: 0.02 },
      callbackRetry: { attempts: 3, delaysMs: [300, 900], timeoutMs: 2_000 },
      pricing: SPEND_SIM_PRICING,
      balanceMicroUsd: 10_000 * 1_000_000,
    },
  });
  log(
    `fleet up: redis :${fleet.redisPort} (AOF everysec), ${options.workers ?? 3} workers, simulator ${fleet.sim.url}`,
  );
  const producer = createProducer({ redis: fleet.redisUrl, prefix: fleet.prefix });
  const monitor = new Redis(fleet.redisUrl, { maxRetriesPerRequest: null });
  monitor.on('error', () => {});
  const queues = SPEND_QUEUES.map((name) => openQueue(monitor, fleet.prefix, name));
  const accepted = new Set<string>();
  try {
    // A balance reading before the first job: the drift check's start (the workers' reconciler takes
    // the others, and `spend reconcile` the last one).
    const { balance_cents } = (await (
      await fetch(`${fleet.sim.url}/v1/billing/balance`, { headers: { authorization: `Bearer ${fleet.sim.apiKey}` } })
    ).json()) as { balance_cents: number };
    await new BalanceSamples(monitor, { prefix: fleet.prefix }).record({
      atMs: Date.now(),
      balanceCents: balance_cents,
      ledgerMicroUsd: 0,
    });
    const clock = Date.now();
    const kill = (async () => {
      await sleep(clock + enqueueWindowMs / 2 - Date.now());
      log(`${((Date.now() - clock) / 1000).toFixed(1)} s: SIGKILL Redis (down 1 s, same port and dir)`);
      await fleet.killRedis(1_000);
      log(`${((Date.now() - clock) / 1000).toFixed(1)} s: Redis back (AOF reloaded, its last second may be lost)`);
    })();
    await enqueuePaced(producer, jobs, enqueueWindowMs, clock, accepted, log);
    await kill;
    log(`enqueued ${accepted.size} jobs; waiting for every job to finish`);
    await waitForIdle(queues, Math.max(120_000, jobs * 60), log);
    await Promise.race([fleet.sim.whenCallbacksSettled(), sleep(60_000)]);
    log('every job finished; waiting for the reconciler to confirm and heal');
    const reconcileStarted = Date.now();
    const reconciled = await waitForReconciled(fleet, 120_000);
    log(
      `reconciler ${reconciled ? 'done' : 'NOT done'} after ${((Date.now() - reconcileStarted) / 1000).toFixed(1)} s`,
    );

    const cli = await runCli(fleet, started);
    const exportFile = options.json
      ? `${options.json.replace(/\.json$/, '')}.export.csv`
      : join(options.logDir, 'export.csv');
    mkdirSync(dirname(exportFile), { recursive: true });
    const facts = await collectSpendFacts(fleet, SPEND_QUEUES, started, accepted, exportFile);
    const drains = await fleet.drainAllWorkers();
    const report = spendVerdict({ jobs, facts, cli, exportFile, drains, elapsedMs: Date.now() - started });
    return report;
  } finally {
    await Promise.all(queues.map((queue) => queue.close().catch(() => {})));
    monitor.disconnect();
    await producer.close();
    await fleet.close();
  }
}

async function enqueuePaced(
  producer: EditProducer,
  jobs: number,
  windowMs: number,
  clock: number,
  accepted: Set<string>,
  log: (line: string) => void,
): Promise<void> {
  const batch = 20;
  for (let offset = 0, n = 0; offset < jobs; offset += batch, n += 1) {
    await sleep(clock + (n * batch * windowMs) / jobs - Date.now());
    const queue = SPEND_QUEUES[n % SPEND_QUEUES.length];
    const requests = Array.from({ length: Math.min(batch, jobs - offset) }, (_, k) => spendRequest(offset + k));
    for (let attempt = 1; ; attempt += 1) {
      try {
        const handles = await producer.enqueueEdits(queue, requests);
        for (const handle of handles) accepted.add(`${queue}/${handle.id}`);
        break;
      } catch (error) {
        if (attempt === 1) log(`enqueue failed (${(error as Error).message}); retrying with the same keys`);
        if (attempt > 600) throw error;
        await sleep(250);
      }
    }
  }
}

/** Until nothing is waiting, active or parked (checked three times in a row), or the timeout. */
async function waitForIdle(queues: Queue[], timeoutMs: number, log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  let lastLog = 0;
  while (Date.now() < deadline && quiet < 3) {
    let busy = 0;
    let finished = 0;
    for (const queue of queues) {
      const c = await queue.getJobCounts('completed', 'failed', 'active', 'delayed', 'waiting', 'prioritized');
      busy += c.active + c.delayed + c.waiting + c.prioritized;
      finished += c.completed + c.failed;
    }
    quiet = busy === 0 ? quiet + 1 : 0;
    if (Date.now() - lastLog > 5_000) {
      log(`  ${finished} finished, ${busy} still going`);
      lastLog = Date.now();
    }
    await sleep(500);
  }
}

/** Until nothing is unconfirmed and the ledger equals what the simulator billed (or the timeout). */
async function waitForReconciled(fleet: ChaosFleet, timeoutMs: number): Promise<boolean> {
  const redis = new Redis(fleet.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  const ledger = new SpendLedger(redis, { prefix: fleet.prefix });
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const [unconfirmed, total] = await Promise.all([ledger.unconfirmedSummary(), ledger.totalMicroUsd(SPEND_QUEUES)]);
      if (unconfirmed.count === 0 && total === fleet.sim.billing().totalMicroUsd) return true;
      await sleep(500);
    }
    return false;
  } finally {
    redis.disconnect();
  }
}

export interface CliOutputs {
  spend: string;
  reconcile: string;
  reconcileDifferenceMicroUsd: number | undefined;
}

/** `pnpm spend` and `spend reconcile --since <start>` against the fleet, as an operator runs them. */
async function runCli(fleet: ChaosFleet, started: number): Promise<CliOutputs> {
  const env = {
    ...process.env,
    REDIS_URL: fleet.redisUrl,
    REDIS_PREFIX: fleet.prefix,
    RUNFLOW_BASE_URL: fleet.sim.url,
    RUNFLOW_API_KEY: fleet.sim.apiKey,
  };
  const cliMain = new URL('../../apps/cli/src/main.ts', import.meta.url).pathname;
  const spend = await run(process.execPath, [cliMain, 'spend'], { env, maxBuffer: 16 * 1024 * 1024 });
  const since = new Date(started).toISOString();
  const reconcile = await run(process.execPath, [cliMain, 'spend', 'reconcile', '--since', since], { env }).catch(
    (error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
  );
  const json = await run(process.execPath, [cliMain, 'spend', 'reconcile', '--since', since, '--json'], { env }).catch(
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
  );
  let difference: number | undefined;
  try {
    difference = (JSON.parse(json.stdout) as { differenceMicroUsd: number }).differenceMicroUsd;
  } catch {
    difference = undefined;
  }
  return {
    spend: spend.stdout.trimEnd(),
    reconcile: `${reconcile.stdout}${reconcile.stderr}`.trimEnd(),
    reconcileDifferenceMicroUsd: difference,
  };
}

/** The CLI entry of the scenario: prints the report, writes the JSON, answers the exit code. */
export async function spendScenarioMain(options: SpendScenarioOptions): Promise<number> {
  options.log(
    `scenario spend: ${options.jobs} jobs into ${SPEND_QUEUES.join(', ')}; the simulator bills without surcharges and with its own tiers; ~half the callbacks dropped (those jobs poll); one Redis SIGKILL mid-run`,
  );
  const report = await runSpendScenario(options);
  console.log(`\n${renderSpendReport(report)}\n`);
  if (options.json) {
    mkdirSync(dirname(options.json), { recursive: true });
    writeFileSync(
      options.json,
      `${JSON.stringify({ createdAt: new Date().toISOString(), scenario: 'spend', ...report }, null, 2)}\n`,
    );
    console.log(`report written to ${options.json}`);
  }
  console.log(report.ok ? 'OK: spend follows Runflow.' : 'FAILED: see above.');
  return report.ok ? 0 : 1;
}
