import { readFileSync } from 'node:fs';
import { createRedis, type RedisClient } from '@runflow-queue/store';
import type { Scenario } from '../scenario.ts';
import { startStack } from '../support/bench-stack.ts';
import { cpuNote, cpuPerJob, cpuSnapshot } from '../support/process-cpu.ts';

// Many runs in flight on one small worker: 10,000 jobs submitted and parked (the simulator holds
// every callback; the first poll is 10 minutes away), one worker process at concurrency 16. Measures
// the worker's memory, Redis bytes per parked job, active jobs while parked, then how long it takes
// to complete them all once the callbacks fire.

const JOBS = 10_000;
const CONCURRENCY = 16;

function rssMb(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
}

async function usedMemory(redis: RedisClient): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
}

export const inflight: Scenario = {
  name: 'inflight',
  description: `${JOBS.toLocaleString('en')} runs in flight on one worker at concurrency ${CONCURRENCY}: RSS, Redis bytes per parked job, active jobs, time to complete`,
  async run(context) {
    const stack = await startStack({
      redisUrl: context.redis.url,
      logDir: context.logDir,
      label: 'inflight',
      workers: 1,
      workerEnv: {
        WORKER_CONCURRENCY: String(CONCURRENCY),
        RUNFLOW_RATE_LIMIT_PER_SECOND: '10000',
        RUNFLOW_RATE_BURST: '10000',
        FIRST_POLL_DELAY_MS: '600000',
        // The production setting (compose, k8s): the live heap is small, and without a cap V8 lets
        // garbage grow RSS (306 MB measured vs 182 MB with it). BENCH_WORKER_NODE_OPTIONS overrides.
        NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS ?? '--max-old-space-size=128',
      },
      sim: { latencyMs: { min: 0, max: 0 } },
    });
    const redis = createRedis(context.redis.url);
    try {
      stack.sim.holdCallbacks(true);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const before = await usedMemory(redis);
      const pid = stack.workers[0].child.pid;
      context.log(`inflight: enqueue and park ${JOBS} jobs`);
      const started = performance.now();
      const cpuStart = await cpuSnapshot(stack, redis);
      await stack.enqueue(JOBS, (i) => ({
        model: 'google/nano-banana-pro/edit',
        input: { prompt: `inflight ${i}`, image_urls: [`https://example.com/${i}.png`] },
      }));
      const cpuEnqueued = await cpuSnapshot(stack, redis);
      let maxActive = 0;
      let peakRss = 0;
      for (;;) {
        const counts = await stack.counts();
        maxActive = Math.max(maxActive, counts.active);
        peakRss = Math.max(peakRss, rssMb(pid));
        if (counts.parked >= JOBS && counts.active === 0 && counts.waiting === 0) break;
        if (performance.now() - started > 300_000) throw new Error(`not all parked: ${JSON.stringify(counts)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const parkedS = (performance.now() - started) / 1000;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const parked = await usedMemory(redis);
      const rssParked = rssMb(pid);
      context.log(`inflight: ${JOBS} parked in ${parkedS.toFixed(1)} s; releasing every callback`);
      const released = performance.now();
      stack.sim.holdCallbacks(false);
      for (;;) {
        const counts = await stack.counts();
        maxActive = Math.max(maxActive, counts.active);
        peakRss = Math.max(peakRss, rssMb(pid));
        if (counts.completed + counts.failed >= JOBS) break;
        if (performance.now() - released > 300_000) throw new Error(`not all completed: ${JSON.stringify(counts)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const completeS = (performance.now() - released) / 1000;
      const cpu = cpuPerJob({ start: cpuStart, enqueued: cpuEnqueued, end: await cpuSnapshot(stack, redis) }, JOBS);
      const counts = await stack.counts();
      const redisBytesPerParkedJob = Math.round((parked - before) / JOBS);
      const workerRssMb = Math.round(peakRss);
      return {
        params: { jobs: JOBS, concurrency: CONCURRENCY },
        summary: {
          workerRssMb,
          redisBytesPerParkedJob,
          maxActive,
          completeAllS: Math.round(completeS * 10) / 10,
          ...cpu,
        },
        columns: [
          { key: 'metric', header: 'metric' },
          { key: 'value', header: 'value' },
          { key: 'target', header: 'target' },
        ],
        rows: [
          { metric: 'jobs parked (runs in flight)', value: JOBS, target: '' },
          { metric: 'time to submit and park all (s)', value: Math.round(parkedS * 10) / 10, target: '' },
          { metric: 'worker RSS peak (MB)', value: workerRssMb, target: '≤ 200' },
          { metric: 'worker RSS with all parked (MB)', value: Math.round(rssParked), target: '' },
          { metric: 'Redis bytes per parked job', value: redisBytesPerParkedJob, target: '≤ 5,000' },
          { metric: 'max active jobs (sampled)', value: maxActive, target: `≤ ${CONCURRENCY}` },
          {
            metric: 'time to complete all after callbacks fire (s)',
            value: Math.round(completeS * 10) / 10,
            target: '',
          },
          { metric: 'completed / failed', value: `${counts.completed} / ${counts.failed}`, target: '' },
        ],
        notes: [cpuNote('park + complete', cpu)],
        problems: counts.completed === JOBS ? [] : [`${JOBS - counts.completed} jobs did not complete`],
      };
    } finally {
      redis.disconnect();
      await stack.close();
    }
  },
};
