import { percentile } from '@runflow-queue/stats';
import { createRedis, queueKeys } from '@runflow-queue/store';
import type { Scenario } from '../scenario.ts';
import { startStack } from '../support/bench-stack.ts';
import { cpuNote, cpuPerJob, cpuSnapshot } from '../support/process-cpu.ts';

// How fast a callback becomes a completed job: jobs are parked with their runs done and callbacks
// held; then the simulator delivers RATE callbacks per second for DURATION_S. For each job:
// completed (BullMQ finishedOn) − received (ingest's receivedAt, stored with the payload).

const RATE_PER_SECOND = 200;
const DURATION_S = 30;
const JOBS = RATE_PER_SECOND * DURATION_S;
const CONCURRENCY = 32;

export const callbackLatency: Scenario = {
  name: 'callback-latency',
  description: `${RATE_PER_SECOND} callbacks/s for ${DURATION_S} s: callback received → job completed, p50 / p99`,
  async run(context) {
    const stack = await startStack({
      redisUrl: context.redis.url,
      logDir: context.logDir,
      label: 'callback-latency',
      workers: 1,
      workerEnv: {
        WORKER_CONCURRENCY: String(CONCURRENCY),
        RUNFLOW_RATE_LIMIT_PER_SECOND: '10000',
        RUNFLOW_RATE_BURST: '10000',
        FIRST_POLL_DELAY_MS: '600000',
      },
      sim: { latencyMs: { min: 0, max: 0 } },
    });
    const redis = createRedis(context.redis.url);
    try {
      stack.sim.holdCallbacks(true);
      context.log(`callback-latency: park ${JOBS} jobs, then ${RATE_PER_SECOND} callbacks/s`);
      const cpuStart = await cpuSnapshot(stack, redis);
      await stack.enqueue(JOBS, (i) => ({
        model: 'google/nano-banana-2/edit',
        input: { prompt: `latency ${i}`, image_urls: [`https://example.com/${i}.png`] },
      }));
      const cpuEnqueued = await cpuSnapshot(stack, redis);
      const deadline = Date.now() + 300_000;
      for (;;) {
        const counts = await stack.counts();
        if (counts.parked >= JOBS && counts.active === 0 && counts.waiting === 0) break;
        if (Date.now() > deadline) throw new Error(`not all parked: ${JSON.stringify(counts)}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const runIds = stack.sim.runs().map((run) => run.id);
      const intervalMs = 1000 / RATE_PER_SECOND;
      const started = performance.now();
      const deliveries: Promise<void>[] = [];
      for (let i = 0; i < runIds.length; i += 1) {
        const due = started + i * intervalMs;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
        deliveries.push(stack.sim.releaseCallbacks(runIds[i]));
      }
      await Promise.all(deliveries);
      const releaseS = (performance.now() - started) / 1000;
      for (;;) {
        const counts = await stack.counts();
        if (counts.completed + counts.failed >= JOBS) break;
        if (Date.now() > deadline) throw new Error(`not all completed: ${JSON.stringify(counts)}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const cpu = cpuPerJob({ start: cpuStart, enqueued: cpuEnqueued, end: await cpuSnapshot(stack, redis) }, JOBS);
      const queue = stack.producer.queue(stack.queues[0]);
      const keys = queueKeys(stack.prefix, stack.queues[0]);
      const jobs = await queue.getCompleted(0, -1);
      const pipeline = redis.pipeline();
      for (const job of jobs) pipeline.get(keys.inbox(job.data.runId as string));
      const inbox = (await pipeline.exec()) ?? [];
      const latencies = jobs
        .map((job, i) => {
          const raw = inbox[i]?.[1] as string | null;
          return raw ? (job.finishedOn ?? 0) - (JSON.parse(raw) as { receivedAt: number }).receivedAt : Number.NaN;
        })
        .filter((ms) => Number.isFinite(ms))
        .sort((a, b) => a - b);
      const p50Ms = percentile(latencies, 50);
      const p99Ms = percentile(latencies, 99);
      return {
        params: { ratePerSecond: RATE_PER_SECOND, durationS: DURATION_S, jobs: JOBS, concurrency: CONCURRENCY },
        summary: { p50Ms, p99Ms, maxMs: latencies.at(-1) ?? null, measured: latencies.length, ...cpu },
        columns: [
          { key: 'metric', header: 'metric' },
          { key: 'value', header: 'value' },
        ],
        rows: [
          { metric: 'callbacks delivered', value: latencies.length },
          { metric: 'delivery rate achieved (/s)', value: Math.round(JOBS / releaseS) },
          { metric: 'received → completed p50 (ms)', value: p50Ms },
          { metric: 'received → completed p90 (ms)', value: percentile(latencies, 90) },
          { metric: 'received → completed p99 (ms)', value: p99Ms },
          { metric: 'received → completed max (ms)', value: latencies.at(-1) ?? null },
        ],
        notes: [
          'Target p99 ≤ 25 ms. "received" is when ingest stored the verified payload; "completed" is BullMQ finishedOn.',
          cpuNote('park + callbacks + complete', cpu),
        ],
        problems: latencies.length === JOBS ? [] : [`${JOBS - latencies.length} jobs without a measurable latency`],
      };
    } finally {
      redis.disconnect();
      await stack.close();
    }
  },
};
