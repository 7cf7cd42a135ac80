import type { EditRequestInput } from '@runflow-queue/shared';
import type { Row, Scenario } from '../scenario.ts';
import { runBaseline } from '../support/baseline.ts';
import { startStack, steadyJobsPerSecond, waitForJobs } from '../support/bench-stack.ts';
import { cpuSeconds } from '../support/cpu-time.ts';

// The cost of what the pipeline does around the paid API, against BullMQ's own speed in the same run:
// raw BullMQ with a no-op processor vs the full pipeline (validate, govern, submit with intent, park,
// signed callback, store, promote, finalize, settle) with a simulator that answers at once.

const JOBS = 3_000;
const CONCURRENCY = 16;

const request = (i: number): EditRequestInput => ({
  model: i % 2 === 0 ? 'google/nano-banana-2/edit' : 'google/nano-banana-pro/edit',
  input: { prompt: `pipeline ${i}`, image_urls: [`https://example.com/${i}.png`] },
});

export const pipeline: Scenario = {
  name: 'pipeline',
  description: 'raw BullMQ (no-op processor) vs the full pipeline at simulator latency 0: jobs/s and ratio',
  async run(context) {
    context.log(`pipeline: raw BullMQ, ${JOBS} no-op jobs, 1 worker process, concurrency ${CONCURRENCY}`);
    const raw = await runBaseline({
      mode: 'raw',
      redisUrl: context.redis.url,
      logDir: context.logDir,
      jobs: JOBS,
      concurrency: CONCURRENCY,
      data: (i) => request(i) as unknown as Record<string, unknown>,
    });
    context.log(`pipeline: full pipeline, ${JOBS} edit jobs, 1 worker process, concurrency ${CONCURRENCY}`);
    const stack = await startStack({
      redisUrl: context.redis.url,
      logDir: context.logDir,
      label: 'pipeline',
      workers: 1,
      workerEnv: {
        WORKER_CONCURRENCY: String(CONCURRENCY),
        RUNFLOW_RATE_LIMIT_PER_SECOND: '10000',
        RUNFLOW_RATE_BURST: '10000',
        ...(process.env.BENCH_CPU_PROF
          ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_CPU_PROF}` }
          : {}),
      },
      sim: { latencyMs: { min: 0, max: 0 } },
    });
    let full: Row;
    let cpu: Row = {};
    try {
      const redisPid = context.redis.pid;
      const pids = {
        worker: stack.workers[0].child.pid,
        ingest: stack.ingest.child.pid,
        redis: redisPid,
        bench: process.pid,
      };
      const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
      await stack.enqueue(JOBS, request);
      const progress = await waitForJobs(stack, JOBS, 300_000, 50);
      // CPU milliseconds per job, per process: where the time goes (bench = simulator + producer).
      cpu = Object.fromEntries(
        Object.entries(pids).map(([name, pid]) => [
          `${name}CpuMsPerJob`,
          round(((cpuSeconds(pid) - before[name]) * 1000) / JOBS, 3),
        ]),
      );
      full = {
        pipeline: 'full',
        completed: progress.final.completed,
        failed: progress.final.failed,
        wallS: round(progress.wallMs / 1000, 1),
        jobsPerSecond: round(steadyJobsPerSecond(progress, JOBS), 1),
      };
    } finally {
      await stack.close();
    }
    const pipelineVsRawRatio = round(Number(full.jobsPerSecond) / raw.jobsPerSecond, 3);
    const rows: Row[] = [
      {
        pipeline: 'raw BullMQ',
        completed: JOBS,
        failed: 0,
        wallS: round(raw.wallMs / 1000, 1),
        jobsPerSecond: round(raw.jobsPerSecond, 1),
        pipelineVsRawRatio: null,
      },
      { ...full, pipelineVsRawRatio },
    ];
    context.log(`pipeline: CPU ms per job by process: ${JSON.stringify(cpu)}`);
    return {
      params: { jobs: JOBS, concurrency: CONCURRENCY, simLatencyMs: 0, workers: 1 },
      summary: {
        rawJobsPerSecond: round(raw.jobsPerSecond, 1),
        pipelineJobsPerSecond: full.jobsPerSecond,
        pipelineVsRawRatio,
      },
      columns: [
        { key: 'pipeline', header: 'pipeline' },
        { key: 'completed', header: 'completed' },
        { key: 'failed', header: 'failed' },
        { key: 'wallS', header: 'wall s' },
        { key: 'jobsPerSecond', header: 'jobs/s (10–90 %)' },
        { key: 'pipelineVsRawRatio', header: 'vs raw' },
      ],
      rows,
      notes: ['Same Redis, same run, one worker process each; target pipelineVsRawRatio ≥ 0.15.'],
    };
  },
};

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
