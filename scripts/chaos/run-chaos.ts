import { createProducer, type EditProducer } from '@runflow-queue/producer';
import type { EditJobData, EditRequestInput } from '@runflow-queue/shared';
import { openQueue } from '@runflow-queue/store';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ChaosFleet } from './chaos-fleet.ts';
import type { ChaosEvent, ChaosPlan } from './chaos-plan.ts';
import type { ChaosScenario } from './chaos-scenario.ts';
import { type ChaosReport, checkInvariants, type RunObservations } from './check-invariants.ts';
import { collectFacts } from './collect-facts.ts';

// One chaos run: start the fleet, enqueue jobs over a window while the schedule breaks things, wait
// until every accepted job has finished and every callback is delivered or given up, stop the
// workers with SIGTERM, then read everything back and check the invariants.

export const SECRETS = ['whsec_chaos_secret_one', 'whsec_chaos_secret_two'];

export interface ChaosRunOptions {
  plan: ChaosPlan;
  logDir: string;
  log: (line: string) => void;
  /** A scenario's own faults and verdicts (`pnpm chaos --scenario NAME`); unset: today's run. */
  scenario?: ChaosScenario;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Requests alternate between the two models; nano-banana-2 ones vary images and surcharges. */
export function chaosRequest(i: number): EditRequestInput {
  const image_urls = [`https://cdn.example.com/chaos/${i}.jpg`];
  const idempotencyKey = `chaos-${i}`;
  if (i % 2 === 0) {
    return { model: 'google/nano-banana-pro/edit', input: { prompt: `studio light ${i}`, image_urls }, idempotencyKey };
  }
  return {
    model: 'google/nano-banana-2/edit',
    input: {
      prompt: `thumbnail ${i}`,
      image_urls,
      num_images: 1 + (i % 3),
      ...(i % 5 === 0 ? { enable_web_search: true } : {}),
      ...(i % 7 === 0 ? { thinking_level: 'high' as const } : {}),
    },
    idempotencyKey,
    tags: { costCenter: i % 3 === 0 ? 'growth' : 'catalog-team' },
  };
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string') return code;
  return (error as Error)?.name ?? 'Error';
}

export async function runChaos({ plan, logDir, log, scenario }: ChaosRunOptions): Promise<ChaosReport> {
  const started = Date.now();
  const fleet = await ChaosFleet.start({
    logDir,
    queues: plan.queues,
    workers: plan.workers,
    workloads: plan.workloads,
    workerEnv: plan.workerEnv,
    secrets: SECRETS,
    sim: {
      latencyMs: plan.latencyMs,
      faults: plan.faults,
      idempotency: plan.idempotency,
      callbackRetry: plan.callbackRetry,
    },
  });
  log(
    `fleet up in ${Date.now() - started} ms: redis :${fleet.redisPort} (AOF), ingest :${fleet.ingestPort}, ${plan.workers} workers, simulator ${fleet.sim.url}; logs in ${logDir}`,
  );
  const producer = createProducer({ redis: fleet.redisUrl, prefix: fleet.prefix });
  const monitor = new Redis(fleet.redisUrl, { maxRetriesPerRequest: null });
  monitor.on('error', () => {});
  const queues = plan.queues.map((name) => openQueue(monitor, fleet.prefix, name));

  const seen: RunObservations = {
    accepted: new Set(),
    legacyInvalid: new Set(),
    producerFailures: [],
    slowestProducerCallMs: 0,
    drains: [],
    activeAfterShutdown: 0,
    processFaults: { workersKilled: 0, workersDiedStarting: 0, workersDrained: 0, ingestDownMs: 0, redisRestarts: 0 },
    scheduleErrors: [],
    elapsedMs: 0,
  };
  try {
    const clock = Date.now();
    const enqueuing = enqueueAll(plan, producer, seen, clock, log);
    const breaking = runSchedule(plan.events, fleet, seen, clock, log, scenario);
    await addLegacyJobs(plan, queues[0], seen);
    await Promise.all([enqueuing, breaking]);
    log(
      `enqueued ${seen.accepted.size} jobs in ${((Date.now() - clock) / 1000).toFixed(1)} s; waiting for every job to finish`,
    );

    await waitForAllFinished(queues, seen.accepted.size + seen.legacyInvalid.size, plan.drainTimeoutMs, log);
    // Late callbacks (delayed, retried) may still settle orphan runs at ingest: let them land.
    await Promise.race([fleet.sim.whenCallbacksSettled(), sleep(60_000)]);

    const drains = await fleet.drainAllWorkers();
    seen.processFaults.workersDiedStarting = fleet.workersDiedStarting;
    seen.drains.push(...drains);
    seen.activeAfterShutdown = (await Promise.all(queues.map((q) => q.getActiveCount()))).reduce((a, b) => a + b, 0);
    seen.elapsedMs = Date.now() - started;
    const facts = await collectFacts(fleet.redisUrl, fleet.prefix, plan.queues, fleet.sim);
    const report = checkInvariants(plan, facts, seen);
    return scenario ? scenario.check(plan, facts, seen, report) : report;
  } finally {
    await Promise.all(queues.map((queue) => queue.close().catch(() => {})));
    monitor.disconnect();
    await producer.close();
    await fleet.close();
  }
}

/** Enqueues in batches paced over the window; a batch that fails (Redis away) is retried with the same keys. */
async function enqueueAll(
  plan: ChaosPlan,
  producer: EditProducer,
  seen: RunObservations,
  clock: number,
  log: (line: string) => void,
): Promise<void> {
  const perBatchMs = (plan.enqueueWindowMs * plan.enqueueBatch) / plan.jobs;
  for (let offset = 0, n = 0; offset < plan.jobs; offset += plan.enqueueBatch, n += 1) {
    await sleep(clock + n * perBatchMs - Date.now());
    const queue = plan.queues[n % plan.queues.length];
    const requests = Array.from({ length: Math.min(plan.enqueueBatch, plan.jobs - offset) }, (_, k) =>
      chaosRequest(offset + k),
    );
    for (let attempt = 1; ; attempt += 1) {
      const callStarted = Date.now();
      try {
        // A producer call that hangs is a failure of its own: cap it and count it.
        const handles = await Promise.race([
          producer.enqueueEdits(queue, requests),
          sleep(30_000).then(() => Promise.reject(Object.assign(new Error('hung 30 s'), { code: 'HUNG' }))),
        ]);
        for (const handle of handles) seen.accepted.add(`${queue}/${handle.id}`);
        seen.slowestProducerCallMs = Math.max(seen.slowestProducerCallMs, Date.now() - callStarted);
        break;
      } catch (error) {
        seen.slowestProducerCallMs = Math.max(seen.slowestProducerCallMs, Date.now() - callStarted);
        seen.producerFailures.push({ ms: Date.now() - callStarted, code: errorCode(error) });
        if (attempt === 1)
          log(`enqueue failed (${errorCode(error)} in ${Date.now() - callStarted} ms); retrying with the same keys`);
        if (attempt > 600) throw error;
        await sleep(250);
      }
    }
  }
}

/** Jobs as an older deploy might have written them: invalid input the workers must refuse on dequeue. */
async function addLegacyJobs(plan: ChaosPlan, queue: Queue<EditJobData>, seen: RunObservations): Promise<void> {
  for (let i = 0; i < plan.legacyInvalidJobs; i += 1) {
    const id = `legacy-${i}`;
    await queue.add(
      'edit',
      {
        model: 'google/nano-banana-pro/edit',
        input: { prompt: 'old deploy', image_urls: [`ftp://legacy.example/${i}.png`], num_images: 9 },
        enqueuedAt: Date.now(),
        step: 'queued',
      },
      { jobId: id, priority: 1_000, attempts: 3 },
    );
    seen.legacyInvalid.add(`${queue.name}/${id}`);
  }
}

async function runSchedule(
  events: ChaosEvent[],
  fleet: ChaosFleet,
  seen: RunObservations,
  clock: number,
  log: (line: string) => void,
  scenario: ChaosScenario | undefined,
): Promise<void> {
  const running: Promise<void>[] = [];
  const at = () => `${((Date.now() - clock) / 1000).toFixed(1)} s`;
  for (const event of events) {
    await sleep(clock + event.atMs - Date.now());
    // Each event is handled where it starts: one that fails is recorded (and fails the verdict), never
    // left as an unhandled rejection while later events are still waiting their turn.
    running.push(
      runEvent(event).catch((error: unknown) => {
        const message = `${event.kind} at ${at()}: ${(error as Error)?.message ?? String(error)}`;
        seen.scheduleErrors.push(message);
        log(`fault event failed: ${message}`);
      }),
    );
  }
  await Promise.all(running);

  async function runEvent(event: ChaosEvent): Promise<void> {
    switch (event.kind) {
      case 'kill-starting-worker': {
        // A worker SIGKILLed before it has started (a node evicted during a rollout): the fleet
        // counts it as died-starting and replaces it.
        const starting = fleet.startWorker();
        const [id] = fleet.startingWorkerIds.slice(-1);
        await sleep(200); // past the spawn, inside module loading and the Redis connect
        if (fleet.startingWorkerIds.includes(id)) {
          await fleet.killWorker(id);
          seen.processFaults.workersKilled += 1;
          log(`${at()}: SIGKILL worker ${id} during its start`);
        }
        await starting;
        return;
      }
      case 'kill-worker': {
        const ids = fleet.workerIds;
        if (ids.length === 0) return;
        const id = ids[Math.floor(Math.random() * ids.length)];
        await fleet.killWorker(id);
        seen.processFaults.workersKilled += 1;
        await fleet.startWorker();
        return;
      }
      case 'drain-worker': {
        const id = fleet.workerIds[0];
        if (id === undefined) return;
        log(`${at()}: SIGTERM worker ${id}`);
        const exit = await fleet.drainWorker(id);
        seen.drains.push(exit);
        seen.processFaults.workersDrained += 1;
        log(`${at()}: worker ${id} exited ${exit.code ?? exit.signal} after ${exit.ms} ms`);
        await fleet.startWorker();
        return;
      }
      case 'ingest-down': {
        log(`${at()}: callback-ingest killed for ${event.forMs / 1000} s`);
        await fleet.killIngest();
        await sleep(event.forMs);
        await fleet.startIngest();
        seen.processFaults.ingestDownMs += event.forMs;
        log(`${at()}: callback-ingest back`);
        return;
      }
      case 'redis-restart': {
        log(`${at()}: Redis stopping for ${event.downMs / 1000} s`);
        await fleet.restartRedis(event.downMs);
        seen.processFaults.redisRestarts += 1;
        log(`${at()}: Redis back (AOF reloaded)`);
        return;
      }
      case 'rate-limit-burst': {
        log(`${at()}: 429 burst (${event.probability * 100}% for ${event.forMs / 1000} s)`);
        fleet.sim.setFaults({ createRateLimited: event.probability, getRateLimited: event.probability });
        await sleep(event.forMs);
        fleet.sim.setFaults({ createRateLimited: 0, getRateLimited: 0 });
        return;
      }
      case 'rotate-secret': {
        log(`${at()}: simulator now signs with the second secret`);
        fleet.sim.setSigningSecret(SECRETS[1]);
        return;
      }
      case 'scenario': {
        if (!scenario) throw new Error(`event ${event.action} needs its scenario`);
        await scenario.runEvent(event, { fleet, seen, log: (line) => log(`${at()}: ${line}`) });
        return;
      }
    }
  }
}

async function waitForAllFinished(
  queues: Queue<EditJobData>[],
  total: number,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<void> {
  const started = Date.now();
  let lastLog = 0;
  for (;;) {
    let finished = 0;
    let active = 0;
    let parked = 0;
    let waiting = 0;
    for (const queue of queues) {
      const counts = await queue.getJobCounts('completed', 'failed', 'active', 'delayed', 'waiting', 'prioritized');
      finished += counts.completed + counts.failed;
      active += counts.active;
      parked += counts.delayed;
      waiting += counts.waiting + counts.prioritized;
    }
    if (finished >= total && active + parked + waiting === 0) return;
    if (Date.now() - started > timeoutMs) {
      log(
        `gave up waiting after ${timeoutMs / 1000} s: ${finished}/${total} finished, ${active} active, ${parked} parked, ${waiting} waiting`,
      );
      return;
    }
    if (Date.now() - lastLog > 5_000) {
      log(`  ${finished}/${total} finished, ${active} active, ${parked} parked, ${waiting} waiting`);
      lastLog = Date.now();
    }
    await sleep(500);
  }
}
