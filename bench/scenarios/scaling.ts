import type { EditRequestInput } from '@runflow-queue/shared';
import { createRedis } from '@runflow-queue/store';
import type { Row, Scenario } from '../scenario.ts';
import { startStack, steadyJobsPerSecond, waitForJobs } from '../support/bench-stack.ts';
import { cpuPerJob, cpuSnapshot } from '../support/process-cpu.ts';

// Horizontal scaling: the same job load against the same simulator with 1, 2 and 4 worker processes.
// Each job holds a worker slot for one submit (a Runflow round trip) and a short finalize; it parks
// in between. So one worker's throughput is about concurrency / slot time, and adding workers adds
// throughput until the account's rate limit binds — where the fleet-wide governor must hold it
// (few or no 429s) instead of letting more workers turn into a retry storm.

const WORKER_COUNTS = [1, 2, 4];
const JOBS = 600;
/** Per worker process, per queue: deliberately small so the limit binds within 4 workers on 2 cores. */
const CONCURRENCY = 4;
/** The account's limit: the simulator answers 429 above it; the workers' governor is set to it. */
const RATE_LIMIT_PER_SECOND = 100;
const RUN_LATENCY_MS = { min: 200, max: 400 };
const RUNFLOW_RTT_MS = { min: 80, max: 120 };
const TRIAL_TIMEOUT_MS = 60_000;

const request = (i: number): EditRequestInput => ({
  model: i % 2 === 0 ? 'google/nano-banana-2/edit' : 'google/nano-banana-pro/edit',
  input: { prompt: `bench ${i}`, image_urls: [`https://example.com/${i}.png`] },
});

export const scaling: Scenario = {
  name: 'scaling',
  description: `throughput with ${WORKER_COUNTS.join(', ')} worker processes until the rate limit binds`,
  async run(context) {
    const rows: Row[] = [];
    for (const workers of WORKER_COUNTS) {
      context.log(`scaling: ${workers} worker(s), ${JOBS} jobs`);
      const stack = await startStack({
        redisUrl: context.redis.url,
        logDir: context.logDir,
        label: `scaling-${workers}w`,
        workers,
        workerEnv: {
          WORKER_CONCURRENCY: String(CONCURRENCY),
          RUNFLOW_RATE_LIMIT_PER_SECOND: String(RATE_LIMIT_PER_SECOND),
        },
        sim: { latencyMs: RUN_LATENCY_MS, rateLimitPerSecond: RATE_LIMIT_PER_SECOND },
        runflowRttMs: RUNFLOW_RTT_MS,
      });
      const redis = createRedis(context.redis.url);
      try {
        const started = performance.now();
        const cpuStart = await cpuSnapshot(stack, redis);
        await stack.enqueue(JOBS, request);
        const cpuEnqueued = await cpuSnapshot(stack, redis);
        const progress = await waitForJobs(stack, JOBS, TRIAL_TIMEOUT_MS);
        const cpu = cpuPerJob({ start: cpuStart, enqueued: cpuEnqueued, end: await cpuSnapshot(stack, redis) }, JOBS);
        const wallS = (performance.now() - started) / 1000;
        await stack.sim.whenCallbacksSettled();
        const stats = stack.sim.stats();
        const jobsPerSecond = steadyJobsPerSecond(progress, JOBS);
        rows.push({
          workers,
          slots: workers * CONCURRENCY,
          completed: progress.final.completed,
          failed: progress.final.failed,
          wallS: round(wallS, 1),
          jobsPerSecond: round(jobsPerSecond, 1),
          ratioVs1: null,
          runflowRequestsPerSecond: round((stats.createRequests + stats.getRequests) / wallS, 1),
          rateLimited429: stats.rateLimited + stats.faultsInjected.createRateLimited,
          runsCreated: stats.runsCreated,
          workerCpuMsPerJob: cpu.workerCpuMsPerJob,
          ingestCpuMsPerJob: cpu.ingestCpuMsPerJob,
          redisCpuMsPerJob: cpu.redisCpuMsPerJob,
          simulatorCpuMsPerJob: cpu.simulatorCpuMsPerJob,
        });
      } finally {
        redis.disconnect();
        await stack.close();
      }
    }
    const problems = rows
      .filter((row) => row.completed !== JOBS || row.runsCreated !== JOBS)
      .map(
        (row) =>
          `${row.workers} worker(s): ${row.completed}/${JOBS} completed, ${row.failed} failed, ${row.runsCreated} runs ` +
          `for ${JOBS} jobs (worker logs in ${context.logDir})`,
      );
    const base = Number(rows[0].jobsPerSecond);
    for (const row of rows) row.ratioVs1 = round(Number(row.jobsPerSecond) / base, 2);
    return {
      params: {
        jobs: JOBS,
        workerCounts: WORKER_COUNTS,
        concurrencyPerWorker: CONCURRENCY,
        rateLimitPerSecond: RATE_LIMIT_PER_SECOND,
        runLatencyMs: RUN_LATENCY_MS,
        runflowRttMs: RUNFLOW_RTT_MS,
        completion: 'callback',
      },
      columns: [
        { key: 'workers', header: 'workers' },
        { key: 'slots', header: 'slots' },
        { key: 'completed', header: 'completed' },
        { key: 'failed', header: 'failed' },
        { key: 'wallS', header: 'wall s' },
        { key: 'jobsPerSecond', header: 'jobs/s (10–90 %)' },
        { key: 'ratioVs1', header: 'vs 1 worker' },
        { key: 'runflowRequestsPerSecond', header: 'Runflow req/s' },
        { key: 'rateLimited429', header: '429s' },
        { key: 'runsCreated', header: 'runs' },
        { key: 'workerCpuMsPerJob', header: 'workers CPU ms/job' },
        { key: 'ingestCpuMsPerJob', header: 'ingest' },
        { key: 'redisCpuMsPerJob', header: 'Redis' },
        { key: 'simulatorCpuMsPerJob', header: 'sim + proxy' },
      ],
      rows,
      problems,
      notes: [
        `${JOBS} jobs per trial; simulator: runs take ${RUN_LATENCY_MS.min}–${RUN_LATENCY_MS.max} ms, ` +
          `${RUNFLOW_RTT_MS.min}–${RUNFLOW_RTT_MS.max} ms round trip per request, ` +
          `account limit ${RATE_LIMIT_PER_SECOND} req/s (429 above it).`,
        `Workers: concurrency ${CONCURRENCY}, governor at ${RATE_LIMIT_PER_SECOND} req/s; every job completes by callback.`,
        'jobs/s is the steady state between 10 % and 90 % finished; "runs" = runs the simulator created (one per job).',
      ],
    };
  },
};

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
