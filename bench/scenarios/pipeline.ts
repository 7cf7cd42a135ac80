import type { EditRequestInput } from '@runflow-queue/shared';
import { createRedis } from '@runflow-queue/store';
import { type OtlpReceiver, startOtlpReceiver } from '@runflow-queue/testkit';
import type { BenchContext, Row, Scenario } from '../scenario.ts';
import { runBaseline } from '../support/baseline.ts';
import { startStack, steadyJobsPerSecond, waitForJobs } from '../support/bench-stack.ts';
import { type CpuPerJob, cpuPerJob, cpuSnapshot } from '../support/process-cpu.ts';

// The cost of what the pipeline does around the paid API, against BullMQ's own speed in the same run:
// raw BullMQ with a no-op processor, and BullMQ alone through an edit job's life (park, promoted from
// another connection, fetched again, completed — the floor under any job that waits without holding a
// slot), vs the full pipeline (validate, govern, submit with intent, park, signed callback, store,
// promote, finalize, settle) with a simulator that answers at once. Then the
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
    context.log(`pipeline: BullMQ alone through an edit job's life (park, promote, complete), ${JOBS} jobs`);
    const floor = await runBaseline({
      mode: 'floor',
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
    const tracedCpu = (trial: { cpu: CpuPerJob }) =>
      Number(trial.cpu.workerCpuMsPerJob) + Number(trial.cpu.ingestCpuMsPerJob);
    const tracingOverheadRatio = round(Number(traced.row.jobsPerSecond) / Number(full.jobsPerSecond), 3);
    const sampledOverheadRatio = round(Number(sampled.row.jobsPerSecond) / Number(full.jobsPerSecond), 3);
    const tracingCpuRatio = round(tracedCpu(traced) / tracedCpu({ cpu }), 3);
    const sampledCpuRatio = round(tracedCpu(sampled) / tracedCpu({ cpu }), 3);
    const pipelineVsRawRatio = round(Number(full.jobsPerSecond) / raw.jobsPerSecond, 3);
    const pipelineVsFloorRatio = round(Number(full.jobsPerSecond) / floor.jobsPerSecond, 3);
    // What the pipeline would reach if it cost nothing beyond BullMQ's floor and the simulator and
    // producer it shares the cores with: every core busy, nothing of ours on them.
    const floorCpuMsPerJob = round(floor.workerCpuMsPerJob + floor.redisCpuMsPerJob, 3);
    const ceilingJobsPerSecond =
      (context.machine.cpus * 1000) / (floorCpuMsPerJob + cpu.simulatorCpuMsPerJob + cpu.producerCpuMsPerJob);
    const baselineRow = (name: string, run: typeof raw, vsRaw: number | null): Row => ({
      pipeline: name,
      completed: JOBS,
      failed: 0,
      wallS: round(run.wallMs / 1000, 1),
      jobsPerSecond: round(run.jobsPerSecond, 1),
      pipelineVsRawRatio: vsRaw,
      workerCpuMsPerJob: run.workerCpuMsPerJob,
      redisCpuMsPerJob: run.redisCpuMsPerJob,
      totalCpuMsPerJob: round(run.workerCpuMsPerJob + run.redisCpuMsPerJob, 3),
    });
    const floorVsRawRatio = round(floor.jobsPerSecond / raw.jobsPerSecond, 3);
    const rows: Row[] = [
      baselineRow('raw BullMQ', raw, null),
      baselineRow('BullMQ, park + wake', floor, floorVsRawRatio),
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
        // BullMQ alone through the same life (park, promote, complete), in the same run.
        floorJobsPerSecond: round(floor.jobsPerSecond, 1),
        floorVsRawRatio,
        pipelineVsFloorRatio,
        rawCpuMsPerJob: round(raw.workerCpuMsPerJob + raw.redisCpuMsPerJob, 3),
        floorCpuMsPerJob,
        // The floor's CPU + the simulator's + the producer's on every core: the most any pipeline parked on
        // BullMQ could reach on this machine (vs raw: the best pipelineVsRawRatio possible here).
        ceilingJobsPerSecond: round(ceilingJobsPerSecond, 1),
        ceilingVsRawRatio: round(ceilingJobsPerSecond / raw.jobsPerSecond, 3),
        // Traced / untraced steady throughput (jobs/s, 10–90 %) of the same pipeline in the same run.
        tracingOverheadRatio,
        tracingOverheadRatioSampled10: sampledOverheadRatio,
        // Traced / untraced CPU ms per job of worker + callback-ingest (the processes that trace).
        tracingCpuRatio,
        tracingCpuRatioSampled10: sampledCpuRatio,
        tracedWorkerCpuMsPerJob: traced.cpu.workerCpuMsPerJob,
        untracedWorkerCpuMsPerJob: cpu.workerCpuMsPerJob,
        // CPU ms per job of every process of the untraced pipeline (workerCpuMsPerJob target ≤ 0.7).
        ...cpu,
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
        { key: 'redisCpuMsPerJob', header: 'Redis CPU ms/job' },
        { key: 'totalCpuMsPerJob', header: 'all CPU ms/job' },
        { key: 'vsUntraced', header: 'vs untraced' },
      ],
      rows,
      notes: [
        'Same Redis, same run, one worker process each; target pipelineVsRawRatio ≥ 0.15.',
        "BullMQ, park + wake: BullMQ alone through an edit job's life, with our worker's and producer's options;",
        "its CPU columns are the worker's and Redis's from the worker's start (the adds before it left out).",
        'Traced: worker and ingest export OTLP/HTTP protobuf to a local receiver (BSP defaults); the bench',
        "process's producer is untraced, so each wake-up starts its own trace — the same spans per job.",
        'tracingOverheadRatio = traced / untraced jobs/s; tracingCpuRatio = traced / untraced worker + ingest CPU per job.',
      ],
    };
  },
};

interface PipelineTrial {
  row: Row;
  cpu: CpuPerJob;
}

/** The full pipeline once: 3,000 jobs through one worker, its steady jobs/s and CPU per job by process. */
async function runPipeline(context: BenchContext, label: string, env: Record<string, string>): Promise<PipelineTrial> {
  const stack = await startStack({
    redisUrl: context.redis.url,
    logDir: context.logDir,
    label,
    workers: 1,
    // BENCH_CPU_PROF=DIR: worker and ingest write a V8 CPU profile each, to DIR/<trial>-worker and DIR/<trial>-ingest.
    env: { ...env, ...cpuProfile(`${label}-ingest`) },
    workerEnv: {
      WORKER_CONCURRENCY: String(CONCURRENCY),
      RUNFLOW_RATE_LIMIT_PER_SECOND: '10000',
      RUNFLOW_RATE_BURST: '10000',
      ...cpuProfile(`${label}-worker`),
    },
    sim: { latencyMs: { min: 0, max: 0 } },
  });
  const redis = createRedis(context.redis.url);
  try {
    const start = await cpuSnapshot(stack, redis);
    await stack.enqueue(JOBS, request);
    const enqueued = await cpuSnapshot(stack, redis);
    const progress = await waitForJobs(stack, JOBS, 300_000, 50);
    // CPU milliseconds per job, per process: where the time goes.
    const cpu = cpuPerJob({ start, enqueued, end: await cpuSnapshot(stack, redis) }, JOBS);
    const row: Row = {
      pipeline: 'full',
      completed: progress.final.completed,
      failed: progress.final.failed,
      wallS: round(progress.wallMs / 1000, 1),
      jobsPerSecond: round(steadyJobsPerSecond(progress, JOBS), 1),
      workerCpuMsPerJob: cpu.workerCpuMsPerJob,
      ingestCpuMsPerJob: cpu.ingestCpuMsPerJob,
      redisCpuMsPerJob: cpu.redisCpuMsPerJob,
      totalCpuMsPerJob: cpu.totalCpuMsPerJob,
    };
    return { row, cpu };
  } finally {
    redis.disconnect();
    await stack.close();
  }
}

function cpuProfile(name: string): Record<string, string> {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}/${name}` } : {};
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
