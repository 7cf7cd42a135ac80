import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EditRequestInput, WorkloadsConfigInput } from '@runflow-queue/shared';
import { percentile } from '@runflow-queue/stats';
import { Redis } from 'ioredis';
import type { BenchContext, Row, Scenario } from '../scenario.ts';
import { startStack } from '../support/bench-stack.ts';

// The fleet-wide rate governor, measured against the simulator's own request log:
//  limit    — 20 req/s across 4 worker processes and 3 queues for 60 s: the busiest sliding 1 s
//             window and the mean rate, of every Runflow request (creates and polls).
//  429      — the simulator allows 15 req/s (429 above) while the fleet is configured for 20: jobs
//             must not fail, and 429s must stop growing once the governor has learned the ceiling.
//  backlog  — 10,000 jobs waiting in one queue; a second queue's new jobs must still get their share
//             (their wait is measured), and Redis commands per submitted run must stay flat (no churn).

const LIMIT = 20;
const BURST = 5;
const MEASURE_MS = 60_000;
const request = (i: number): EditRequestInput => ({
  model: i % 2 === 0 ? 'google/nano-banana-2/edit' : 'google/nano-banana-pro/edit',
  input: { prompt: `governor ${i}`, image_urls: [`https://example.com/${i}.png`] },
});

function workloadsFile(config: WorkloadsConfigInput): string {
  const path = join(mkdtempSync(join(tmpdir(), 'rfq-bench-workloads-')), 'workloads.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** Largest number of timestamps in any window of `windowMs` (two pointers over sorted times). */
export function maxInWindow(sorted: readonly number[], windowMs: number): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end += 1) {
    while (sorted[end] - sorted[start] >= windowMs) start += 1;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

async function limitTrial(context: BenchContext): Promise<Row> {
  const queues = ['alpha', 'beta', 'gamma'];
  const stack = await startStack({
    redisUrl: context.redis.url,
    logDir: context.logDir,
    label: 'governor-limit',
    queues,
    workers: 4,
    workerEnv: {
      WORKLOADS_FILE: workloadsFile({
        rateLimit: { requestsPerSecond: LIMIT, burst: BURST },
        queues: queues.map((name) => ({ name, concurrency: 8 })),
      }),
    },
    sim: { latencyMs: { min: 200, max: 400 } },
  });
  try {
    await stack.enqueue(1_800, request);
    const started = Date.now();
    context.log(`governor/limit: ${LIMIT} req/s (burst ${BURST}), 4 workers, 3 queues, ${MEASURE_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, MEASURE_MS + 2_000));
    const times = stack.sim.requestTimes().filter((t) => t >= started);
    const first = times[0] ?? started;
    const window = times.filter((t) => t < first + MEASURE_MS);
    const counts = await stack.counts();
    return {
      trial: 'limit',
      limitPerSecond: LIMIT,
      burst: BURST,
      maxInAnyWindow: maxInWindow(window, 1_000),
      meanPerSecond: round(window.length / (MEASURE_MS / 1000), 2),
      requests: window.length,
      completed: counts.completed,
      failed: counts.failed,
      total429: stack.sim.stats().rateLimited,
    };
  } finally {
    await stack.close();
  }
}

async function rateLimitedTrial(context: BenchContext): Promise<Row> {
  const accountLimit = 15;
  const stack = await startStack({
    redisUrl: context.redis.url,
    logDir: context.logDir,
    label: 'governor-429',
    workers: 2,
    workerEnv: {
      RUNFLOW_RATE_LIMIT_PER_SECOND: String(LIMIT),
      RUNFLOW_RATE_BURST: String(BURST),
      WORKER_CONCURRENCY: '16',
    },
    sim: { latencyMs: { min: 200, max: 400 }, rateLimitPerSecond: accountLimit },
  });
  try {
    const jobs = 900;
    await stack.enqueue(jobs, request);
    context.log(`governor/429: account allows ${accountLimit} req/s, fleet configured for ${LIMIT}; ${jobs} jobs`);
    const started = Date.now();
    const buckets: number[] = [];
    let previous = 0;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      const total = stack.sim.stats().rateLimited;
      buckets.push(total - previous);
      previous = total;
      const counts = await stack.counts();
      if (counts.completed + counts.failed >= jobs || Date.now() - started > 150_000) {
        return {
          trial: '429',
          limitPerSecond: LIMIT,
          accountLimitPerSecond: accountLimit,
          completed: counts.completed,
          failed: counts.failed,
          total429: total,
          per10s429: buckets.join(' '),
          last30s429: buckets.slice(-3).reduce((a, b) => a + b, 0),
          meanPerSecond: round(stack.sim.requestTimes().length / ((Date.now() - started) / 1000), 2),
        };
      }
    }
  } finally {
    await stack.close();
  }
}

async function commandCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let calls = 0;
  for (const match of info.matchAll(/calls=(\d+)/g)) calls += Number(match[1]);
  return calls;
}

async function backlogTrial(context: BenchContext): Promise<Row> {
  const stack = await startStack({
    redisUrl: context.redis.url,
    logDir: context.logDir,
    label: 'governor-backlog',
    queues: ['bulk', 'interactive'],
    workers: 2,
    workerEnv: {
      WORKLOADS_FILE: workloadsFile({
        rateLimit: { requestsPerSecond: LIMIT, burst: BURST },
        queues: [
          { name: 'bulk', concurrency: 8, share: 1 },
          { name: 'interactive', concurrency: 8, share: 1 },
        ],
      }),
    },
    sim: { latencyMs: { min: 200, max: 400 } },
  });
  const redis = new Redis(context.redis.url);
  try {
    const backlog = 10_000;
    context.log(
      `governor/backlog: ${backlog} jobs in "bulk", then 40 jobs in "interactive" (equal shares, ${LIMIT} req/s)`,
    );
    for (let offset = 0; offset < backlog; offset += 500) {
      await stack.producer.enqueueEdits(
        'bulk',
        Array.from({ length: 500 }, (_, k) => request(offset + k)),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    // Redis commands (INFO commandstats, Lua-internal calls included) per run created in a 10 s window.
    const perRun = async () => {
      const [calls0, runs0] = [await commandCalls(redis), stack.sim.stats().runsCreated];
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      const [calls1, runs1] = [await commandCalls(redis), stack.sim.stats().runsCreated];
      return (calls1 - calls0) / Math.max(1, runs1 - runs0);
    };
    // No churn: commands per created run stay flat while the backlog stays ~10,000 deep.
    const early = await perRun();
    const late = await perRun();
    const waits: number[] = [];
    const submitted = Date.now();
    const handles = await stack.producer.enqueueEdits(
      'interactive',
      Array.from({ length: 40 }, (_, i) => request(i)),
    );
    const contended = perRun();
    await Promise.all(
      handles.map(async (handle) => {
        await stack.producer.waitForResult('interactive', handle.id, { timeoutMs: 120_000 });
        waits.push(Date.now() - submitted);
      }),
    );
    const contendedCommands = await contended;
    waits.sort((a, b) => a - b);
    const counts = await stack.counts();
    return {
      trial: 'backlog',
      limitPerSecond: LIMIT,
      backlog,
      interactiveJobs: handles.length,
      interactiveP50WaitMs: percentile(waits, 50),
      interactiveP95WaitMs: percentile(waits, 95),
      backlogDrainS: round(backlog / LIMIT, 0),
      redisCommandsPerRunEarly: round(early, 1),
      redisCommandsPerRunLate: round(late, 1),
      redisCommandsPerRunContended: round(contendedCommands, 1),
      failed: counts.failed,
    };
  } finally {
    redis.disconnect();
    await stack.close();
  }
}

export const governor: Scenario = {
  name: 'governor',
  description: 'fleet-wide rate limit held across processes and queues; 429 convergence; fairness under a backlog',
  async run(context) {
    const rows = [await limitTrial(context), await rateLimitedTrial(context), await backlogTrial(context)];
    const [limit, limited, backlog] = rows;
    return {
      summary: {
        limitPerSecond: LIMIT,
        maxInAnyWindow: limit.maxInAnyWindow,
        meanPerSecond: limit.meanPerSecond,
        failed: Number(limit.failed) + Number(limited.failed) + Number(backlog.failed),
        total429: limited.total429,
        last30s429: limited.last30s429,
        interactiveP95WaitMs: backlog.interactiveP95WaitMs,
        redisCommandsPerRunEarly: backlog.redisCommandsPerRunEarly,
        redisCommandsPerRunLate: backlog.redisCommandsPerRunLate,
      },
      params: { limitPerSecond: LIMIT, burst: BURST, measureMs: MEASURE_MS },
      columns: [
        { key: 'trial', header: 'trial' },
        { key: 'limitPerSecond', header: 'limit/s' },
        { key: 'maxInAnyWindow', header: 'max in 1 s' },
        { key: 'meanPerSecond', header: 'mean req/s' },
        { key: 'completed', header: 'completed' },
        { key: 'failed', header: 'failed' },
        { key: 'total429', header: '429s' },
        { key: 'per10s429', header: '429s per 10 s' },
        { key: 'interactiveP50WaitMs', header: 'interactive p50 ms' },
        { key: 'interactiveP95WaitMs', header: 'interactive p95 ms' },
        { key: 'redisCommandsPerRunEarly', header: 'cmds/run early' },
        { key: 'redisCommandsPerRunLate', header: 'cmds/run late' },
        { key: 'redisCommandsPerRunContended', header: 'cmds/run 2 queues' },
      ],
      rows,
      notes: [
        `limit: every Runflow request counted at the simulator; target max in any 1 s ≤ ${LIMIT} + burst ${BURST}, mean ≥ ${LIMIT * 0.95}/s.`,
        '429: the simulator enforces 15 req/s; the governor halves on a 429 and recovers up to 0.9× the rate that drew it.',
        `backlog: a queue with a 10,000-job backlog would take ${10_000 / LIMIT} s to drain; the other queue's new jobs wait only their share.`,
      ],
    };
  },
};

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
