import { createRedis } from '@runflow-queue/store';
import type { Row, Scenario } from '../scenario.ts';
import { startStack, waitForJobs } from '../support/bench-stack.ts';
import { runBullmqFloor } from '../support/bullmq-floor.ts';
import { cpuNote, cpuPerJob, cpuSnapshot } from '../support/process-cpu.ts';
import { diffTally, scriptNames, startMonitor, type Tally } from '../support/redis-monitor.ts';

// Redis work per job, from MONITOR: client commands (one per round trip of a single command; each
// EVALSHA counts once) and the calls Lua scripts make inside Redis, split by phase:
//   submit   — one job, from the producer's add through dequeue to parked (its callback held);
//   finalize — the same job, from its callback to completed;
//   steady   — JOBS jobs end to end with callbacks, everything counted, per completed job,
// and the steady phase per command (each script by name), so what a job costs can be read line by line.
// Then BullMQ alone through the same life (add with a priority, fetch, park with data, promote, fetch,
// complete; bench/support/bullmq-floor.ts), counted in the same run: the floor under any job of ours.

const JOBS = 500;

const round1 = (value: number) => Math.round(value * 10) / 10;
const perJob = (value: number, jobs: number) => round1(value / jobs);

export const redisCost: Scenario = {
  name: 'redis-cost',
  description: 'Redis commands per job (MONITOR): enqueue, submit path, finalize path, steady state, per command',
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
    const monitor = startMonitor(context.redis.url, await scriptNames(context.redis.url));
    const redis = createRedis(context.redis.url);
    try {
      await monitor.ready;
      const queue = stack.producer.queue(stack.queues[0]);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      // One job, phase by phase (the worker's idle loop adds a little to each window).
      stack.sim.holdCallbacks(true);
      const idle0 = monitor.snapshot();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const idlePerSecond = diffTally(idle0, monitor.snapshot());
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
      // Steady state: many jobs, everything counted (producer, workers, ingest), per completed job —
      // counted once every job has completed, so each job's whole path is in the window.
      const s0 = monitor.snapshot();
      const cpuStart = await cpuSnapshot(stack, redis);
      const started = performance.now();
      await stack.enqueue(JOBS, (i) => ({
        model: 'google/nano-banana-2/edit',
        input: { prompt: `cost ${i}`, image_urls: [`https://example.com/${i}.png`] },
      }));
      const cpuEnqueued = await cpuSnapshot(stack, redis);
      // The bench's own polling of job counts is outside the window: sampled rarely, then subtracted.
      const pollStart = monitor.snapshot();
      const progress = await waitForJobs(stack, JOBS + 1, 120_000, 500);
      const pollEnd = monitor.snapshot();
      await new Promise((resolve) => setTimeout(resolve, 500));
      const s1 = monitor.snapshot();
      const cpu = cpuPerJob({ start: cpuStart, enqueued: cpuEnqueued, end: await cpuSnapshot(stack, redis) }, JOBS);
      const seconds = (performance.now() - started) / 1000;
      const completed = progress.final.completed - 1;
      const steady = diffTally(s0, s1);
      // Each counts() of the wait is one getJobCounts per queue: remove those from the steady window.
      const polls = progress.samples.length;
      const pollCost = diffTally(pollStart, pollEnd).byCommand.get('script getCounts') ?? { client: 0, lua: 0 };
      const idle = { client: idlePerSecond.client / 2, lua: idlePerSecond.lua / 2 };
      const client = steady.client - idle.client * seconds - pollCost.client;
      const lua = steady.lua - idle.lua * seconds - pollCost.lua;
      const redisCommandsPerJob = perJob(client, completed);
      const redisLuaCallsPerJob = perJob(lua, completed);
      // BullMQ alone, the same life, the same number of jobs (the idle loop subtracted likewise): with
      // our options, then with none (what BullMQ needs for a park and a wake, whatever the options).
      const countFloor = async (options: { bare?: boolean }) => {
        const before = monitor.snapshot();
        const floorStarted = performance.now();
        const run = await runBullmqFloor(context.redis.url, JOBS, 16, options);
        await new Promise((resolve) => setTimeout(resolve, 300));
        const tally = diffTally(before, monitor.snapshot());
        const floorSeconds = (performance.now() - floorStarted) / 1000;
        return {
          completed: run.completed,
          client: perJob(tally.client - idle.client * floorSeconds, run.completed),
          lua: perJob(tally.lua - idle.lua * floorSeconds, run.completed),
        };
      };
      const floor = await countFloor({});
      const bare = await countFloor({ bare: true });
      const rows: Row[] = [
        { phase: 'enqueue + submit path (1 job: add → dequeue → parked)', ...counts(diffTally(t0, t2)) },
        { phase: 'finalize path (callback → completed)', ...counts(diffTally(t2, t3)) },
        {
          phase: `steady, per completed job (${completed} jobs)`,
          client: redisCommandsPerJob,
          lua: redisLuaCallsPerJob,
        },
        {
          phase: `BullMQ alone, the same life, per job (${floor.completed} jobs)`,
          client: floor.client,
          lua: floor.lua,
        },
        {
          phase: `BullMQ alone, the same life, no options (no priority, metrics, limiter, age removal)`,
          client: bare.client,
          lua: bare.lua,
        },
        {
          phase: "  the pipeline's own, above BullMQ's",
          client: round1(redisCommandsPerJob - floor.client),
          lua: round1(redisLuaCallsPerJob - floor.lua),
        },
        { phase: 'idle worker + ingest, per second', client: idle.client, lua: idle.lua },
        ...[...steady.byCommand]
          .filter(
            ([name]) => name !== 'script getCounts' || pollCost.client < (steady.byCommand.get(name)?.client ?? 0),
          )
          .map(([name, c]) => ({
            name,
            client: name === 'script getCounts' ? c.client - pollCost.client : c.client,
            lua: name === 'script getCounts' ? c.lua - pollCost.lua : c.lua,
          }))
          .filter((c) => c.client > 0)
          .sort((a, b) => b.lua + b.client - (a.lua + a.client))
          .map((c) => ({
            phase: `  per job: ${c.name}`,
            client: perJob(c.client, completed),
            lua: perJob(c.lua, completed),
          })),
      ];
      return {
        params: { jobs: JOBS, countPolls: polls },
        summary: {
          redisCommandsPerJob,
          redisLuaCallsPerJob,
          // The name this figure had before (same value).
          luaCallsPerJob: redisLuaCallsPerJob,
          bullmqFloorCommandsPerJob: floor.client,
          bullmqFloorLuaCallsPerJob: floor.lua,
          ownLuaCallsPerJob: round1(redisLuaCallsPerJob - floor.lua),
          bullmqBareLuaCallsPerJob: bare.lua,
          enqueueAndSubmitRoundTrips: diffTally(t0, t2).client,
          finalizePathRoundTrips: diffTally(t2, t3).client,
          ...cpu,
        },
        columns: [
          { key: 'phase', header: 'phase' },
          { key: 'client', header: 'client commands' },
          { key: 'lua', header: 'calls inside Lua' },
        ],
        rows,
        problems: completed === JOBS ? [] : [`${JOBS - completed} of ${JOBS} jobs did not complete`],
        notes: [
          'client commands = what crosses the network (EVALSHA counts once); targets ≤ 20 client commands and ≤ 50 calls inside Lua per completed job.',
          "BullMQ alone: its own scripts for a job that parks and wakes once, with our worker's and producer's options (bench/support/bullmq-floor.ts); no pipeline's job can cost less.",
          'No options: the same park and wake with none of them — what BullMQ itself needs for a job that waits without holding a worker slot.',
          'The one-job phases include the idle loop of the worker and ingest during their window (see the last row).',
          "Per job rows: the steady window by command (a script by name, its inner calls beside it); the bench's own count polls are subtracted.",
          cpuNote('steady', cpu),
        ],
      };
    } finally {
      redis.disconnect();
      await monitor.stop();
      await stack.close();
    }
  },
};

function counts(tally: Tally): { client: number; lua: number } {
  return { client: tally.client, lua: tally.lua };
}
