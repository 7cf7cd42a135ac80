import type { EditRequestInput } from '@runflow-queue/shared';
import { createRedis, readGovernorState } from '@runflow-queue/store';
import type { BenchContext, Row, Scenario } from '../scenario.ts';
import { type Stack, startStack, steadyJobsPerSecond, waitForJobs } from '../support/bench-stack.ts';

// A model under a per-model concurrency cap on Runflow (runflow-api.md §6) — a cap, not a rate limit.
// With a cap of C runs in flight and run latency L, the most any fleet can get is C / L runs per second;
// the governor must get close (≥ 0.85 × C / L, steady state) without slowing the fleet's rate:
//  reject  — over the cap a create answers 429 without Retry-After (the governor learns the cap)
//  queue   — over the cap the run is accepted and waits `queued` until a slot frees
//  mixed   — reject mode with an uncapped model in the same queue: its jobs must still get the rate

const CAP = 8;
const LATENCY_MS = 2_000;
const RATE = 20;
const BURST = 5;
const JOBS = 240;
const CAPPED = 'google/nano-banana-pro/edit';
const FREE = 'google/nano-banana-2/edit';

const edit = (model: string, i: number): EditRequestInput =>
  ({
    model,
    input: { prompt: `${model === CAPPED ? 'capped' : 'free'} ${i}`, image_urls: [`https://example.com/${i}.png`] },
  }) as EditRequestInput;

/** The simulator's runs of the capped (or the uncapped) model, told apart by their prompt. */
function runsOf(stack: Stack, which: 'capped' | 'free') {
  return stack.sim.runs().filter((run) => String((run.input as { prompt?: string }).prompt).startsWith(which));
}

/** Samples the governor's factor while `until` is pending; resolves the lowest seen. */
async function lowestFactor(stack: Stack, context: BenchContext, until: Promise<unknown>): Promise<number> {
  const redis = createRedis(context.redis.url);
  let lowest = 1;
  let done = false;
  until.finally(() => {
    done = true;
  });
  try {
    while (!done) {
      const state = await readGovernorState(redis, {
        prefix: stack.prefix,
        apiKey: stack.sim.apiKey,
        requestsPerSecond: RATE,
        burst: BURST,
      });
      lowest = Math.min(lowest, state.factor);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return lowest;
  } finally {
    redis.disconnect();
  }
}

async function trial(context: BenchContext, mode: 'reject' | 'queue', mixed: boolean): Promise<Row> {
  const label = mixed ? 'mixed' : mode;
  const stack = await startStack({
    redisUrl: context.redis.url,
    logDir: context.logDir,
    label: `caps-${label}`,
    workers: 2,
    workerEnv: {
      RUNFLOW_RATE_LIMIT_PER_SECOND: String(RATE),
      RUNFLOW_RATE_BURST: String(BURST),
      WORKER_CONCURRENCY: '16',
    },
    sim: {
      latencyMs: { min: LATENCY_MS, max: LATENCY_MS },
      concurrencyCaps: { models: { [CAPPED]: CAP }, mode },
    },
  });
  const redis = createRedis(context.redis.url);
  try {
    const free = mixed ? JOBS : 0;
    const total = JOBS + free;
    context.log(
      `caps/${label}: cap ${CAP} runs of ${CAPPED}, latency ${LATENCY_MS} ms, ${JOBS} jobs${mixed ? ` + ${free} of ${FREE} (uncapped)` : ''}`,
    );
    // Interleaved, so the uncapped jobs queue behind capped ones as they would in one workload.
    await stack.enqueue(total, (i) => (mixed && i % 2 === 1 ? edit(FREE, i) : edit(CAPPED, i)));
    const freeDone = mixed ? waitForFree(stack, free, 300_000) : Promise.resolve(Number.NaN);
    const progress = waitForJobs(stack, total, 300_000, 250);
    const [result, lowest, freeS] = await Promise.all([progress, lowestFactor(stack, context, progress), freeDone]);
    const state = await readGovernorState(redis, {
      prefix: stack.prefix,
      apiKey: stack.sim.apiKey,
      requestsPerSecond: RATE,
      burst: BURST,
    });
    const stats = stack.sim.stats();
    // In the mixed trial the uncapped jobs finish early: the capped model's own runs are what C / L is about.
    const steady = mixed ? cappedSteady(stack) : steadyJobsPerSecond(result, total);
    const ideal = CAP / (LATENCY_MS / 1000);
    return {
      trial: label,
      cap: CAP,
      latencyMs: LATENCY_MS,
      idealPerSecond: ideal,
      steadyPerSecond: round(steady, 2),
      capThroughputRatio: round(steady / ideal, 3),
      wallS: round(result.wallMs / 1000, 1),
      completed: result.final.completed,
      failed: result.final.failed,
      capRejected: stats.capRejected,
      capQueued: stats.capQueued,
      createsPerRun: round(stats.createRequests / Math.max(1, stats.runsCreated), 3),
      runsCreated: stats.runsCreated,
      lowestFactor: round(lowest, 3),
      penalties: state.penalties,
      undone: state.undone,
      learnedCap: state.learnedCaps.find((c) => c.model === CAPPED)?.cap ?? null,
      freeJobsS: Number.isNaN(freeS) ? null : round(freeS, 1),
    };
  } finally {
    redis.disconnect();
    await stack.close();
  }
}

/** Seconds until `count` runs of the uncapped model succeeded (the mixed trial). */
async function waitForFree(stack: Stack, count: number, timeoutMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const done = runsOf(stack, 'free').filter((run) => run.status_code === 'succeeded').length;
    if (done >= count) return (performance.now() - started) / 1000;
    if (performance.now() - started > timeoutMs) return Number.NaN;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Capped runs finished per second at the simulator, between the 10 % and 90 % of them. */
function cappedSteady(stack: Stack): number {
  const ends = runsOf(stack, 'capped')
    .filter((run) => run.completed_at)
    .map((run) => Date.parse(run.completed_at as string))
    .sort((a, b) => a - b);
  const from = ends[Math.floor(ends.length * 0.1)];
  const to = ends[Math.floor(ends.length * 0.9)];
  return (Math.floor(ends.length * 0.9) - Math.floor(ends.length * 0.1)) / ((to - from) / 1000);
}

export const caps: Scenario = {
  name: 'caps',
  description: `a model capped at ${CAP} runs in flight (latency ${LATENCY_MS / 1000} s): steady throughput vs C / L, rate factor untouched`,
  async run(context) {
    const rows = [await trial(context, 'reject', false), await trial(context, 'queue', false)];
    rows.push(await trial(context, 'reject', true));
    const [reject, queue, mixed] = rows;
    const failed = rows.reduce((n, row) => n + Number(row.failed), 0);
    return {
      params: { cap: CAP, latencyMs: LATENCY_MS, jobs: JOBS, ratePerSecond: RATE, burst: BURST, workers: 2 },
      summary: {
        capThroughputRatio: Math.min(Number(reject.capThroughputRatio), Number(queue.capThroughputRatio)),
        capThroughputRatioReject: reject.capThroughputRatio,
        capThroughputRatioQueue: queue.capThroughputRatio,
        capThroughputRatioMixed: mixed.capThroughputRatio,
        lowestFactor: Math.min(...rows.map((row) => Number(row.lowestFactor))),
        penalties: rows.reduce((n, row) => n + Number(row.penalties), 0),
        capRejected: Number(reject.capRejected),
        mixedFreeJobsS: mixed.freeJobsS,
        failed,
      },
      columns: [
        { key: 'trial', header: 'trial' },
        { key: 'idealPerSecond', header: 'C/L runs/s' },
        { key: 'steadyPerSecond', header: 'steady runs/s' },
        { key: 'capThroughputRatio', header: 'ratio' },
        { key: 'wallS', header: 'wall s' },
        { key: 'completed', header: 'completed' },
        { key: 'failed', header: 'failed' },
        { key: 'capRejected', header: 'cap 429s' },
        { key: 'capQueued', header: 'waited queued' },
        { key: 'learnedCap', header: 'learned cap' },
        { key: 'lowestFactor', header: 'lowest factor' },
        { key: 'penalties', header: 'halvings' },
        { key: 'undone', header: 'undone' },
        { key: 'createsPerRun', header: 'creates/run' },
        { key: 'freeJobsS', header: 'uncapped jobs s' },
      ],
      rows,
      notes: [
        `target: steady throughput ≥ 0.85 × C / L = ${(0.85 * CAP * 1000) / LATENCY_MS} runs/s (capThroughputRatio ≥ 0.85); the rate factor stays 1 (no halvings).`,
        'reject: Runflow answers 429 over the cap; the governor learns the cap from the runs in flight and holds admissions under it (probing one higher every 5 s, doubling when refused).',
        'queue: Runflow keeps over-cap runs queued; nothing to learn, the throughput is the cap itself.',
        `mixed: ${JOBS} capped + ${JOBS} uncapped jobs interleaved in one queue; the uncapped ones must not wait for the cap (at ${RATE} req/s they need ~${Math.round(JOBS / RATE)} s).`,
      ],
      problems: failed > 0 ? [`${failed} jobs failed`] : [],
    };
  },
};

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
