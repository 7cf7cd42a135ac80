import type { EditRequestInput } from '@runflow-queue/shared';
import { type OtlpReceiver, startOtlpReceiver } from '@runflow-queue/testkit';
import type { BenchContext, Row, Scenario } from '../scenario.ts';
import { runBaseline } from '../support/baseline.ts';
import { startStack, steadyJobsPerSecond, waitForJobs } from '../support/bench-stack.ts';
import { cpuSeconds } from '../support/cpu-time.ts';

// The cost of what the pipeline does around the paid API, against BullMQ's own speed in the same run:
// raw BullMQ with a no-op processor vs the full pipeline (validate, govern, submit with intent, park,
// signed callback, store, promote, finalize, settle) with a simulator that answers at once. Then the
// same pipeline traced (worker and ingest exporting OTLP/HTTP protobuf to a local receiver), every
// trace kept and one in ten: the cost of tracing as throughput and CPU per job, traced / untraced.

const JOBS = 3_000;
const CONCURRENCY = 16;

const request = (i: number): EditRequestInput => ({
  model: i % 2 === 0 ? 'google/nano-banana-2/edit' : 'google/nano-banana-pro/edit',
  input: { prompt: `pipeline ${i}`, image_urls: [`https://example.com/${i}.png`] },
});

export const pipeline: Scenario = {
  name: 'pipeline',
  description:
    'raw BullMQ (no-op processor) vs the full pipeline at simulator latency 0, untraced and traced: jobs/s and ratios',
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
    const { row: full, cpu } = await runPipeline(context, 'pipeline', {});
    const receiver = await startOtlpReceiver();
    let traced: PipelineTrial;
    let sampled: PipelineTrial;
    let exported: ReturnType<OtlpReceiver['stats']>;
    try {
      const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
      context.log('pipeline: traced, every trace kept (parentbased_always_on, the default)');
      traced = await runPipeline(context, 'pipeline-traced', otel);
      exported = receiver.stats();
      context.log('pipeline: traced, one trace in ten (parentbased_traceidratio 0.1)');
      sampled = await runPipeline(context, 'pipeline-sampled', {
        ...otel,
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.1',
      });
    } finally {
      await receiver.close();
    }
    const tracedCpu = (trial: { cpu: Row }) =>
      Number(trial.cpu.workerCpuMsPerJob) + Number(trial.cpu.ingestCpuMsPerJob);
    const tracingOverheadRatio = round(Number(traced.row.jobsPerSecond) / Number(full.jobsPerSecond), 3);
    const sampledOverheadRatio = round(Number(sampled.row.jobsPerSecond) / Number(full.jobsPerSecond), 3);
    const tracingCpuRatio = round(tracedCpu(traced) / tracedCpu({ cpu }), 3);
    const sampledCpuRatio = round(tracedCpu(sampled) / tracedCpu({ cpu }), 3);
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
      { ...full, pipelineVsRawRatio, vsUntraced: null },
      { ...traced.row, pipeline: 'full, traced (all)', pipelineVsRawRatio: null, vsUntraced: tracingOverheadRatio },
      {
        ...sampled.row,
        pipeline: 'full, traced (1 in 10)',
        pipelineVsRawRatio: null,
        vsUntraced: sampledOverheadRatio,
      },
    ];
    context.log(`pipeline: CPU ms per job by process: ${JSON.stringify(cpu)}`);
    context.log(`pipeline: traced (all): ${JSON.stringify(traced.cpu)}; exported ${JSON.stringify(exported)}`);
    context.log(`pipeline: traced (1 in 10): ${JSON.stringify(sampled.cpu)}`);
    return {
      params: { jobs: JOBS, concurrency: CONCURRENCY, simLatencyMs: 0, workers: 1 },
      summary: {
        rawJobsPerSecond: round(raw.jobsPerSecond, 1),
        pipelineJobsPerSecond: full.jobsPerSecond,
        pipelineVsRawRatio,
        // Traced / untraced steady throughput (jobs/s, 10–90 %) of the same pipeline in the same run.
        tracingOverheadRatio,
        tracingOverheadRatioSampled10: sampledOverheadRatio,
        // Traced / untraced CPU ms per job of worker + callback-ingest (the processes that trace).
        tracingCpuRatio,
        tracingCpuRatioSampled10: sampledCpuRatio,
        tracedWorkerCpuMsPerJob: traced.cpu.workerCpuMsPerJob,
        untracedWorkerCpuMsPerJob: cpu.workerCpuMsPerJob,
        tracingSampler: 'parentbased_always_on',
      },
      columns: [
        { key: 'pipeline', header: 'pipeline' },
        { key: 'completed', header: 'completed' },
        { key: 'failed', header: 'failed' },
        { key: 'wallS', header: 'wall s' },
        { key: 'jobsPerSecond', header: 'jobs/s (10–90 %)' },
        { key: 'pipelineVsRawRatio', header: 'vs raw' },
        { key: 'workerCpuMsPerJob', header: 'worker CPU ms/job' },
        { key: 'ingestCpuMsPerJob', header: 'ingest CPU ms/job' },
        { key: 'vsUntraced', header: 'vs untraced' },
      ],
      rows,
      notes: [
        'Same Redis, same run, one worker process each; target pipelineVsRawRatio ≥ 0.15.',
        'Traced: worker and ingest export OTLP/HTTP protobuf to a local receiver (BSP defaults); the bench',
        "process's producer is untraced, so each wake-up starts its own trace — the same spans per job.",
        'tracingOverheadRatio = traced / untraced jobs/s; tracingCpuRatio = traced / untraced worker + ingest CPU per job.',
      ],
    };
  },
};

interface PipelineTrial {
  row: Row;
  cpu: Row;
}

/** The full pipeline once: 3,000 jobs through one worker, its steady jobs/s and CPU per job by process. */
async function runPipeline(context: BenchContext, label: string, env: Record<string, string>): Promise<PipelineTrial> {
  const stack = await startStack({
    redisUrl: context.redis.url,
    logDir: context.logDir,
    label,
    workers: 1,
    env,
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
  try {
    const pids = {
      worker: stack.workers[0].child.pid,
      ingest: stack.ingest.child.pid,
      redis: context.redis.pid,
      bench: process.pid,
    };
    const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
    await stack.enqueue(JOBS, request);
    const progress = await waitForJobs(stack, JOBS, 300_000, 50);
    // CPU milliseconds per job, per process: where the time goes (bench = simulator + producer).
    const cpu: Row = Object.fromEntries(
      Object.entries(pids).map(([name, pid]) => [
        `${name}CpuMsPerJob`,
        round(((cpuSeconds(pid) - before[name]) * 1000) / JOBS, 3),
      ]),
    );
    const row: Row = {
      pipeline: 'full',
      completed: progress.final.completed,
      failed: progress.final.failed,
      wallS: round(progress.wallMs / 1000, 1),
      jobsPerSecond: round(steadyJobsPerSecond(progress, JOBS), 1),
      workerCpuMsPerJob: cpu.workerCpuMsPerJob,
      ingestCpuMsPerJob: cpu.ingestCpuMsPerJob,
    };
    return { row, cpu };
  } finally {
    await stack.close();
  }
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
