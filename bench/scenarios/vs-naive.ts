import type { EditRequestInput } from '@runflow-queue/shared';
import type { Row, Scenario } from '../scenario.ts';
import { runBaseline } from '../support/baseline.ts';
import { startStack, steadyJobsPerSecond, waitForJobs } from '../support/bench-stack.ts';

// Why park: the same jobs through a straightforward worker that awaits the run inside its processor
// (polling every 2 s like the official SDK, holding its slot for the run's life) vs ours, with runs
// that take 5 s and 10 slots each.

const RUN_LATENCY_MS = { min: 5_000, max: 5_000 };
const CONCURRENCY = 10;
const NAIVE_JOBS = 60;
const OUR_JOBS = 1_500;

const request = (i: number): EditRequestInput => ({
  model: 'google/nano-banana-2/edit',
  input: { prompt: `vs-naive ${i}`, image_urls: [`https://example.com/${i}.png`] },
});

export const vsNaive: Scenario = {
  name: 'vs-naive',
  description: 'a worker that awaits each run in its slot vs ours (runs take 5 s, concurrency 10): throughput ratio',
  async run(context) {
    const stack = await startStack({
      redisUrl: context.redis.url,
      logDir: context.logDir,
      label: 'vs-naive',
      workers: 1,
      workerEnv: {
        WORKER_CONCURRENCY: String(CONCURRENCY),
        RUNFLOW_RATE_LIMIT_PER_SECOND: '10000',
        RUNFLOW_RATE_BURST: '10000',
      },
      sim: { latencyMs: RUN_LATENCY_MS },
    });
    let ours: Row = { worker: 'runflow-queue (park)', jobs: OUR_JOBS };
    let naiveJobsPerSecond = Number.NaN;
    let naiveWallS = Number.NaN;
    try {
      context.log(`vs-naive: naive worker, ${NAIVE_JOBS} jobs, concurrency ${CONCURRENCY}, runs of 5 s`);
      const naive = await runBaseline({
        mode: 'naive',
        redisUrl: context.redis.url,
        logDir: context.logDir,
        jobs: NAIVE_JOBS,
        concurrency: CONCURRENCY,
        data: (i) => request(i) as unknown as Record<string, unknown>,
        runflow: { baseUrl: stack.sim.url, apiKey: stack.sim.apiKey },
      });
      naiveJobsPerSecond = naive.jobsPerSecond;
      naiveWallS = naive.wallMs / 1000;
      context.log(`vs-naive: ours, ${OUR_JOBS} jobs, concurrency ${CONCURRENCY}`);
      await stack.enqueue(OUR_JOBS, request);
      const progress = await waitForJobs(stack, OUR_JOBS, 300_000, 50);
      ours = {
        worker: 'runflow-queue (park)',
        jobs: OUR_JOBS,
        failed: progress.final.failed,
        wallS: round(progress.wallMs / 1000, 1),
        jobsPerSecond: round(OUR_JOBS / (progress.wallMs / 1000), 2),
        steadyJobsPerSecond: round(steadyJobsPerSecond(progress, OUR_JOBS), 1),
      };
    } finally {
      await stack.close();
    }
    const throughputRatio = round(Number(ours.jobsPerSecond) / naiveJobsPerSecond, 1);
    const rows: Row[] = [
      {
        worker: 'naive (await in slot)',
        jobs: NAIVE_JOBS,
        failed: 0,
        wallS: round(naiveWallS, 1),
        jobsPerSecond: round(naiveJobsPerSecond, 2),
        throughputRatio: null,
      },
      { ...ours, throughputRatio },
    ];
    return {
      params: {
        runLatencyMs: RUN_LATENCY_MS,
        concurrency: CONCURRENCY,
        naiveJobs: NAIVE_JOBS,
        ourJobs: OUR_JOBS,
        naivePollMs: 2_000,
      },
      summary: {
        naiveJobsPerSecond: round(naiveJobsPerSecond, 2),
        ourJobsPerSecond: ours.jobsPerSecond,
        throughputRatio,
      },
      columns: [
        { key: 'worker', header: 'worker' },
        { key: 'jobs', header: 'jobs' },
        { key: 'failed', header: 'failed' },
        { key: 'wallS', header: 'wall s' },
        { key: 'jobsPerSecond', header: 'jobs/s (all, wall)' },
        { key: 'throughputRatio', header: 'vs naive' },
      ],
      rows,
      notes: [
        'The naive worker holds a slot for a run’s whole life: 10 slots / ~6 s (5 s run, 2 s polls) ≈ 1.7 jobs/s.',
        'Ours holds a slot only to submit and to finalize; its rate is wall-clock jobs/s including the 5 s of the last runs. Target ≥ 20×.',
      ],
    };
  },
};

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
