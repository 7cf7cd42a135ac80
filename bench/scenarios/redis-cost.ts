import { connect } from 'node:net';
import { createRedis } from '@runflow-queue/store';
import type { Scenario } from '../scenario.ts';
import { startStack } from '../support/bench-stack.ts';

// Redis work per job, from MONITOR: client commands (one per round trip of a single command; each
// EVALSHA counts once) and the calls Lua scripts make inside Redis, split by phase:
//   submit   — one job, from the producer's add through dequeue to parked (its callback held);
//   finalize — the same job, from its callback to completed;
//   steady   — JOBS jobs end to end with callbacks, everything counted, per completed job.

const JOBS = 500;

interface Tally {
  client: number;
  lua: number;
}

/**
 * MONITOR over a raw socket (a monitoring connection only receives): every line is one command, with
 * its source — `[db ip:port]` for a client, `[db lua]` for a call made inside a script.
 */
function startMonitor(url: string) {
  const tally: Tally = { client: 0, lua: 0 };
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port || 6379), hostname);
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf('\r\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 2);
      if (line.startsWith('+') && line !== '+OK') {
        if (line.includes(' lua] ')) tally.lua += 1;
        else tally.client += 1;
      }
      newline = buffered.indexOf('\r\n');
    }
  });
  const ready = new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write('MONITOR\r\n');
      setTimeout(resolve, 100);
    });
  });
  return {
    tally,
    snapshot: (): Tally => ({ ...tally }),
    async stop() {
      socket.destroy();
    },
    ready,
  };
}

const diff = (a: Tally, b: Tally): Tally => ({ client: b.client - a.client, lua: b.lua - a.lua });

export const redisCost: Scenario = {
  name: 'redis-cost',
  description: 'Redis commands per job (MONITOR): enqueue, submit path, finalize path, steady state',
  async run(context) {
    const stack = await startStack({
      redisUrl: context.redis.url,
      logDir: context.logDir,
      label: 'redis-cost',
      workers: 1,
      workerEnv: {
        WORKER_CONCURRENCY: '16',
        RUNFLOW_RATE_LIMIT_PER_SECOND: '10000',
        RUNFLOW_RATE_BURST: '10000',
        FIRST_POLL_DELAY_MS: '600000',
      },
      sim: { latencyMs: { min: 100, max: 200 } },
    });
    const monitor = startMonitor(context.redis.url);
    const redis = createRedis(context.redis.url);
    try {
      await monitor.ready;
      const queue = stack.producer.queue(stack.queues[0]);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      // One job, phase by phase (the worker's idle loop adds a little to each window).
      stack.sim.holdCallbacks(true);
      const idle0 = monitor.snapshot();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const idlePerSecond = diff(idle0, monitor.snapshot());
      const t0 = monitor.snapshot();
      const [handle] = await stack.producer.enqueueEdits(stack.queues[0], [
        { model: 'google/nano-banana-pro/edit', input: { prompt: 'cost', image_urls: ['https://example.com/0.png'] } },
      ]);
      while ((await queue.getJobState(handle.id)) !== 'delayed' || !(await queue.getJob(handle.id))?.data.runId) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      const t2 = monitor.snapshot();
      stack.sim.holdCallbacks(false);
      await stack.producer.waitForResult(stack.queues[0], handle.id, { timeoutMs: 30_000 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const t3 = monitor.snapshot();
      // Steady state: many jobs, everything counted (producer, workers, ingest), per completed job.
      const s0 = monitor.snapshot();
      const started = performance.now();
      await stack.enqueue(JOBS, (i) => ({
        model: 'google/nano-banana-2/edit',
        input: { prompt: `cost ${i}`, image_urls: [`https://example.com/${i}.png`] },
      }));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await stack.sim.whenCallbacksSettled();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const s1 = monitor.snapshot();
      const seconds = (performance.now() - started) / 1000;
      const completed = (await stack.counts()).completed - 1;
      const steady = diff(s0, s1);
      const idle = { client: idlePerSecond.client / 2, lua: idlePerSecond.lua / 2 };
      const redisCommandsPerJob = Math.round(((steady.client - idle.client * seconds) / completed) * 10) / 10;
      const rows = [
        { phase: 'enqueue + submit path (1 job: add → dequeue → parked)', ...diff(t0, t2) },
        { phase: 'finalize path (callback → completed)', ...diff(t2, t3) },
        {
          phase: `steady, per completed job (${completed} jobs)`,
          client: redisCommandsPerJob,
          lua: Math.round((steady.lua / completed) * 10) / 10,
        },
        { phase: 'idle worker + ingest, per second', client: idle.client, lua: idle.lua },
      ];
      return {
        params: { jobs: JOBS },
        summary: {
          redisCommandsPerJob,
          luaCallsPerJob: Math.round((steady.lua / completed) * 10) / 10,
          enqueueAndSubmitRoundTrips: diff(t0, t2).client,
          finalizePathRoundTrips: diff(t2, t3).client,
        },
        columns: [
          { key: 'phase', header: 'phase' },
          { key: 'client', header: 'client commands' },
          { key: 'lua', header: 'calls inside Lua' },
        ],
        rows,
        notes: [
          'client commands = what crosses the network (EVALSHA counts once); target ≤ 40 per completed job.',
          'The one-job phases include the idle loop of the worker and ingest during their window (see the last row).',
        ],
      };
    } finally {
      redis.disconnect();
      await monitor.stop();
      await stack.close();
    }
  },
};
