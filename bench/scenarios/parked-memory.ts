import { createRedis, queueKeys, queueTag, type RedisClient, recordsKeyOf, runQueueKey } from '@runflow-queue/store';
import type { Row, Scenario } from '../scenario.ts';
import { type Stack, startStack } from '../support/bench-stack.ts';

// Redis memory per job, for sizing (docs/production.md). Park JOBS jobs (the simulator holds every
// callback; the first poll is 10 minutes away) and compare INFO memory `used_memory` before and after;
// then release the callbacks, let every job complete and measure again: a finished job keeps its hash
// (for the idempotency window) and leaves inbox, settle-marker and run-index keys with their own TTLs.
// MEMORY USAGE of sampled keys splits each total into what one job owns and what the queue shares.

const JOBS = 2_000;
const SAMPLE = 50;

async function usedMemory(redis: RedisClient): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
}

async function waitUntil(stack: Stack, done: (c: Awaited<ReturnType<Stack['counts']>>) => boolean, what: string) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const counts = await stack.counts();
    if (done(counts)) break;
    if (Date.now() > deadline) throw new Error(`${what} not reached in 120 s: ${JSON.stringify(counts)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // Let the last replies, events and stream trims land before reading memory.
  await new Promise((resolve) => setTimeout(resolve, 500));
}

export const parkedMemory: Scenario = {
  name: 'parked-memory',
  description: `Redis bytes per parked and per finished job (${JOBS.toLocaleString('en')} jobs)`,
  async run(context) {
    const stack = await startStack({
      redisUrl: context.redis.url,
      logDir: context.logDir,
      label: 'parked-memory',
      workers: 1,
      workerEnv: {
        WORKER_CONCURRENCY: '32',
        RUNFLOW_RATE_LIMIT_PER_SECOND: '5000',
        RUNFLOW_RATE_BURST: '5000',
        // Nothing may wake a parked job while we measure: no poll for 10 minutes.
        FIRST_POLL_DELAY_MS: '600000',
      },
      sim: { latencyMs: { min: 50, max: 100 } },
    });
    const redis = createRedis(context.redis.url);
    try {
      stack.sim.holdCallbacks(true);
      const queue = stack.queues[0];
      const keys = queueKeys(stack.prefix, queue);
      const bullKey = (name: string) => `${queueTag(stack.prefix, queue)}:${queue}:${name}`;
      const usage = async (key: string) => Number((await redis.memory('USAGE', key, 'SAMPLES', '0')) ?? 0);
      const mean = async (ids: string[], key: (id: string) => string) => {
        let total = 0;
        for (const id of ids) total += await usage(key(id));
        return Math.round(total / Math.max(1, ids.length));
      };

      await new Promise((resolve) => setTimeout(resolve, 500));
      const idle = await usedMemory(redis);
      await stack.enqueue(JOBS, (i) => ({
        model: 'google/nano-banana-pro/edit',
        input: {
          prompt: `a typical edit prompt of a few words, number ${i}`,
          image_urls: [`https://cdn.example.com/catalog/${i}.jpg`],
        },
      }));
      await waitUntil(stack, (c) => c.parked >= JOBS && c.active === 0 && c.waiting === 0, `${JOBS} parked`);
      const parked = await usedMemory(redis);
      const parkedJobs = (await stack.producer.queue(queue).getDelayed(0, SAMPLE - 1)).filter((job) => job.data.runId);
      const runIds = parkedJobs.map((job) => job.data.runId as string);
      const parkedParts = {
        jobHash: await mean(
          parkedJobs.map((job) => job.id as string),
          (id) => bullKey(id),
        ),
        runIndex:
          (await mean(runIds, (id) => keys.run(id))) + (await mean(runIds, (id) => runQueueKey(stack.prefix, id))),
        delayedEntry: Math.round((await usage(bullKey('delayed'))) / JOBS),
        events: Math.round((await usage(bullKey('events'))) / JOBS),
      };

      stack.sim.holdCallbacks(false);
      await stack.sim.releaseCallbacks();
      await waitUntil(stack, (c) => c.completed + c.failed >= JOBS, `${JOBS} finished`);
      const { failed } = await stack.counts();
      const finished = await usedMemory(redis);
      const clientRefs = parkedJobs.map((job) => job.data.clientRef as string);
      const finishedParts = {
        jobHash: await mean(
          parkedJobs.map((job) => job.id as string),
          (id) => bullKey(id),
        ),
        inbox: await mean(runIds, (id) => keys.inbox(id)),
        // One per-day hash holds every run's spend record (also its settle-once marker).
        settled: Math.round((await usage(recordsKeyOf(stack.prefix, runIds[0]))) / JOBS),
        ref: await mean(clientRefs, (id) => keys.ref(id)),
        completedEntry: Math.round((await usage(bullKey('completed'))) / JOBS),
      };

      const perParked = Math.round((parked - idle) / JOBS);
      const perFinished = Math.round((finished - idle) / JOBS);
      const rows: Row[] = [
        { state: 'parked', part: 'used_memory delta / job (INFO memory)', ttl: '', bytes: perParked },
        {
          state: 'parked',
          part: 'job hash (data, opts, step, runId)',
          ttl: 'until finished',
          bytes: parkedParts.jobHash,
        },
        { state: 'parked', part: 'run index: {q}:run:<id> + run-queue:<id>', ttl: '30 d', bytes: parkedParts.runIndex },
        { state: 'parked', part: 'delayed sorted-set entry', ttl: 'until woken', bytes: parkedParts.delayedEntry },
        { state: 'parked', part: 'events stream share (capped ~10k)', ttl: 'capped', bytes: parkedParts.events },
        { state: 'finished', part: 'used_memory delta / job (INFO memory)', ttl: '', bytes: perFinished },
        { state: 'finished', part: 'job hash incl. result', ttl: '24 h (idempotency)', bytes: finishedParts.jobHash },
        { state: 'finished', part: 'callback inbox payload', ttl: '7 d', bytes: finishedParts.inbox },
        {
          state: 'finished',
          part: 'spend record = settle-once marker ({spend}:runs:<day>)',
          ttl: '8 d after its day',
          bytes: finishedParts.settled,
        },
        { state: 'finished', part: 'clientRef → run', ttl: '7 d', bytes: finishedParts.ref },
        { state: 'finished', part: 'run index (as above)', ttl: '30 d', bytes: parkedParts.runIndex },
        { state: 'finished', part: 'completed sorted-set entry', ttl: '24 h', bytes: finishedParts.completedEntry },
      ];
      return {
        params: {
          jobs: JOBS,
          sampledJobs: parkedJobs.length,
          usedMemoryIdle: idle,
          usedMemoryParked: parked,
          usedMemoryFinished: finished,
          bytesPerParkedJob: perParked,
          bytesPerFinishedJob: perFinished,
        },
        columns: [
          { key: 'state', header: 'job' },
          { key: 'part', header: 'what' },
          { key: 'ttl', header: 'kept' },
          { key: 'bytes', header: 'bytes / job' },
        ],
        rows,
        problems: failed > 0 ? [`${failed} of ${JOBS} jobs failed (logs in ${context.logDir})`] : [],
        notes: [
          [
            `${JOBS} jobs of google/nano-banana-pro/edit (one image URL, a ~50-character prompt), one queue.`,
            'Parked: submitted to Runflow, delayed, callback held. Finished: completed by callback.',
            'Per-key rows are MEMORY USAGE means over sampled jobs; the delta rows also hold keyspace and',
            'expiry-table overhead. The events stream is capped per queue, so its share falls with volume.',
          ].join('\n'),
        ],
      };
    } finally {
      redis.disconnect();
      await stack.close();
    }
  },
};
