import type { CallbackRetryPolicy, IdempotencyMode, LatencyRangeMs, SimFaults } from '@runflow-queue/runflow-sim';
import { formatTable, type WorkloadsConfigInput } from '@runflow-queue/shared';

// What a chaos run does and when: the simulator's standing fault rates, the process faults on a
// timeline, and the timings the workers run with. Everything scales with the job count, so the small
// run inside `pnpm test` goes through every fault kind with shorter outages.

export type ChaosEvent =
  | { atMs: number; kind: 'kill-worker' }
  | { atMs: number; kind: 'kill-starting-worker' }
  | { atMs: number; kind: 'drain-worker' }
  | { atMs: number; kind: 'ingest-down'; forMs: number }
  | { atMs: number; kind: 'redis-restart'; downMs: number }
  | { atMs: number; kind: 'rate-limit-burst'; forMs: number; probability: number }
  | { atMs: number; kind: 'rotate-secret' }
  /** A fault of a scenario (chaos-scenario.ts), carried out by the scenario itself. */
  | { atMs: number; kind: 'scenario'; action: string; forMs: number; what: string; detail: string };

export interface ChaosPlan {
  jobs: number;
  queues: string[];
  workers: number;
  idempotency: IdempotencyMode;
  /** Standing fault probabilities for the whole run (429s come in bursts, see events). */
  faults: Partial<SimFaults>;
  latencyMs: LatencyRangeMs;
  callbackRetry: CallbackRetryPolicy;
  /** Jobs are enqueued over this window, so faults land on jobs at every step. */
  enqueueWindowMs: number;
  enqueueBatch: number;
  /** Raw jobs with invalid data (as an older deploy might have left), to fail INVALID_JOB_DATA. */
  legacyInvalidJobs: number;
  workloads: WorkloadsConfigInput;
  workerEnv: Record<string, string>;
  /** SHUTDOWN_GRACE_MS of the workers: every SIGTERM must end within it. */
  shutdownGraceMs: number;
  events: ChaosEvent[];
  /** How long the run may take to finish every job once enqueueing ended. */
  drainTimeoutMs: number;
}

export interface PlanOptions {
  jobs: number;
  idempotency?: IdempotencyMode;
  workers?: number;
}

/** Full-size outages at 2,000 jobs and more; the small run scales them down (never below a floor). */
const FULL_SCALE_JOBS = 2_000;

export function planChaos(options: PlanOptions): ChaosPlan {
  const { jobs } = options;
  const scale = Math.min(1, jobs / FULL_SCALE_JOBS);
  const small = scale < 0.5;
  const firstPollDelayMs = small ? 2_000 : 4_000;
  const lockDurationMs = small ? 5_000 : 10_000;
  const shutdownGraceMs = small ? 10_000 : 15_000;
  // Jobs per second offered to the fleet: about what 3–4 workers on 2 cores keep up with under chaos.
  const enqueuePerSecond = small ? 30 : 50;
  const enqueueWindowMs = Math.max(8_000, Math.round((jobs / enqueuePerSecond) * 1000));
  const callbackRetry: CallbackRetryPolicy = small
    ? { attempts: 3, delaysMs: [300, 900], timeoutMs: 2_000 }
    : { attempts: 4, delaysMs: [1_000, 3_000, 9_000], timeoutMs: 5_000 };
  // Ingest stays down longer than the simulator keeps retrying, so it gives up and polls must finish.
  const retryWindowMs = callbackRetry.delaysMs.reduce((sum, ms) => sum + ms, 0);
  const ingestDownMs = Math.max(retryWindowMs + 2_500, Math.round(30_000 * scale));
  const redisDownMs = small ? 1_000 : 3_000;
  const killEveryMs = small ? 2_500 : 5_000;

  const at = (fraction: number) => Math.round(enqueueWindowMs * fraction);
  const events: ChaosEvent[] = [];
  for (let t = at(0.1); t <= enqueueWindowMs + killEveryMs; t += killEveryMs)
    events.push({ atMs: t, kind: 'kill-worker' });
  events.push(
    { atMs: at(0.15), kind: 'kill-starting-worker' },
    { atMs: at(0.2), kind: 'rate-limit-burst', forMs: 1_000, probability: 0.2 },
    { atMs: at(0.3), kind: 'ingest-down', forMs: ingestDownMs },
    { atMs: at(0.45), kind: 'rotate-secret' },
    { atMs: at(0.55), kind: 'drain-worker' },
    { atMs: at(0.7), kind: 'rate-limit-burst', forMs: 1_000, probability: 0.2 },
    { atMs: at(0.8), kind: 'redis-restart', downMs: redisDownMs },
  );
  events.sort((a, b) => a.atMs - b.atMs);

  const requestsPerSecond = 300;
  const burst = 60;
  return {
    jobs,
    queues: ['catalog', 'thumbnails'],
    workers: options.workers ?? (small ? 3 : 4),
    idempotency: options.idempotency ?? 'honour',
    faults: {
      createServerError: 0.02,
      getServerError: 0.03,
      resetAfterCreate: 0.02,
      runFailed: 0.02,
      callbackDrop: 0.04,
      callbackDuplicate: 0.04,
      callbackDelay: 0.04,
      // Past the first poll: the poll finishes the job and the callback lands on a finished job.
      callbackDelayMs: firstPollDelayMs + 3_000,
      callbackOutOfOrder: 0.03,
    },
    latencyMs: small ? { min: 200, max: 1_000 } : { min: 300, max: 1_500 },
    callbackRetry,
    enqueueWindowMs,
    enqueueBatch: 20,
    legacyInvalidJobs: 5,
    workloads: {
      rateLimit: { requestsPerSecond, burst },
      queues: [
        { name: 'catalog', concurrency: 16, share: 2 },
        // A budget that never binds: the run checks that every reservation is given back or spent.
        { name: 'thumbnails', concurrency: 16, share: 1, budget: { dailyUsd: 1_000_000, policy: 'fail' } },
      ],
    },
    workerEnv: {
      FIRST_POLL_DELAY_MS: String(firstPollDelayMs),
      POLL_INTERVAL_MS: String(small ? 1_000 : 2_000),
      MAX_POLL_INTERVAL_MS: String(small ? 4_000 : 8_000),
      AMBIGUOUS_GRACE_MS: String(small ? 2_000 : 5_000),
      LOCK_DURATION_MS: String(lockDurationMs),
      RUNFLOW_TIMEOUT_MS: '10000',
      SHUTDOWN_GRACE_MS: String(shutdownGraceMs),
    },
    shutdownGraceMs,
    events,
    drainTimeoutMs: Math.max(small ? 60_000 : 180_000, jobs * 40),
  };
}

function describeEvent(event: ChaosEvent): [string, string] {
  switch (event.kind) {
    case 'kill-worker':
      return ['SIGKILL a random worker', 'a new one starts at once'];
    case 'kill-starting-worker':
      return ['SIGKILL a worker during its start', 'counted as died-starting; a new one starts'];
    case 'drain-worker':
      return ['SIGTERM a worker (deploy)', 'must exit 0 within SHUTDOWN_GRACE_MS; a new one starts'];
    case 'ingest-down':
      return ['SIGKILL callback-ingest', `down ${event.forMs / 1000} s (longer than the simulator retries)`];
    case 'redis-restart':
      return ['restart Redis (SIGTERM, AOF)', `down ${event.downMs / 1000} s, same port and dir`];
    case 'rate-limit-burst':
      return ['429 burst on create and get', `${event.probability * 100}% for ${event.forMs / 1000} s`];
    case 'rotate-secret':
      return ['simulator switches signer', 'to the second secret ingest trusts'];
    case 'scenario':
      return [event.what, event.detail];
  }
}

/** The schedule as printed before the run starts. */
export function renderPlan(plan: ChaosPlan): string {
  const rates = Object.entries(plan.faults)
    .filter(([kind]) => kind !== 'callbackDelayMs')
    .map(([kind, p]) => [kind, `${((p as number) * 100).toFixed(0)}%`]);
  rates.push([
    'callbackDelayMs',
    `${plan.faults.callbackDelayMs} ms (first poll at ${plan.workerEnv.FIRST_POLL_DELAY_MS})`,
  ]);
  rates.push(['idempotency', plan.idempotency]);
  rates.push(['run latency', `${plan.latencyMs.min}–${plan.latencyMs.max} ms`]);
  rates.push([
    'callback retries',
    `${plan.callbackRetry.attempts} attempts, waits ${plan.callbackRetry.delaysMs.join('/')} ms`,
  ]);
  const kills = plan.events.filter((e) => e.kind === 'kill-worker');
  const timeline = plan.events
    .filter((e) => e.kind !== 'kill-worker')
    .map((e) => [`${(e.atMs / 1000).toFixed(1)} s`, ...describeEvent(e)]);
  if (kills.length > 0) {
    const every = kills.length > 1 ? kills[1].atMs - kills[0].atMs : 0;
    timeline.unshift([
      `${(kills[0].atMs / 1000).toFixed(1)}–${(kills[kills.length - 1].atMs / 1000).toFixed(1)} s`,
      `SIGKILL a random worker every ${every / 1000} s`,
      `${kills.length} kills; a new worker starts after each`,
    ]);
  }
  return [
    `${plan.jobs} jobs over ${(plan.enqueueWindowMs / 1000).toFixed(0)} s into ${plan.queues.join(', ')}; ${plan.workers} workers; plus ${plan.legacyInvalidJobs} legacy jobs with invalid data`,
    '',
    formatTable(['simulator fault', 'rate'], rates, ['left', 'right']),
    '',
    formatTable(['at', 'process fault', 'detail'], timeline, ['right', 'left', 'left']),
  ].join('\n');
}
