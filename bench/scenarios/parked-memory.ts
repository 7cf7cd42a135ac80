import { createRedis, queueKeys, queueTag, type RedisClient, runQueueKey } from '@runflow-queue/store';
import type { Row, Scenario } from '../scenario.ts';
import { type Stack, startStack } from '../support/bench-stack.ts';
import { type FamilyUsage, keyFamilies } from '../support/key-families.ts';
import { cpuNote, cpuPerJob, cpuSnapshot } from '../support/process-cpu.ts';

// Redis memory per job, for sizing (docs/production.md). Park JOBS jobs (the simulator holds every
// callback; the first poll is 10 minutes away) and compare INFO memory `used_memory` before and after;
// then release the callbacks, let every job complete and weigh every key by family; then let "24 h"
// pass and weigh again: what a job leaves behind after its first day (redisBytesKeptPerJob).
//
// Simulated retention: every retention is divided by DIVISOR — RETENTION_DIVISOR of worker and ingest
// (callback inbox, clientRef, run index, settle marker TTLs) and the producer's removeOnComplete /
// removeOnFail ages — so 24 h pass in 86,400 / DIVISOR = 30 s. BullMQ removes aged finished jobs when
// the next jobs finish, as in steady production: a few probe jobs run at the end for that, and their
// own (fresh) keys are left out of the count.

const JOBS = 2_000;
const SAMPLE = 50;
const PROBES = 5;
const DIVISOR = 2_880;
const DAY_MS = 86_400_000 / DIVISOR;

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

/** How long BullMQ keeps what it removes itself (no TTL): the producer's ages, or the job's state. */
const BULL_RETENTION: Record<string, string> = {
  'finished / parked job hash': '24 h completed, 7 d failed',
  'completed / failed sets': 'as the job hash',
  'delayed set (parked)': 'until woken',
  'job lock / logs': 'while active',
};

/**
 * Families whose expiry is not divided: spend records expire a fixed time after the end of their UTC day
 * (EXPIREAT from the run id's day), so they are kept, and weighed, after the simulated 24 h as in life.
 */
const UNSCALED = new Set(['spend record = settle-once marker']);

/** A family's retention as measured: its keys' TTL at finish, scaled back to real time. */
function retentionOf(family: FamilyUsage | undefined): string {
  if (!family) return '';
  if (!family.perJob) return 'bounded';
  if (family.maxTtlSeconds === undefined) return BULL_RETENTION[family.family] ?? 'bounded';
  const hours = (family.maxTtlSeconds * (UNSCALED.has(family.family) ? 1 : DIVISOR)) / 3600;
  return hours >= 47 ? `${Math.ceil(hours / 24 - 0.05)} d` : `${Math.ceil(hours - 0.05)} h`;
}

export const parkedMemory: Scenario = {
  name: 'parked-memory',
  description: `Redis bytes per parked and per finished job, and kept after 24 h (${JOBS.toLocaleString('en')} jobs)`,
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
      retentionDivisor: DIVISOR,
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
      const request = (i: number) => ({
        model: 'google/nano-banana-pro/edit' as const,
        input: {
          prompt: `a typical edit prompt of a few words, number ${i}`,
          image_urls: [`https://cdn.example.com/catalog/${i}.jpg`],
        },
      });

      await new Promise((resolve) => setTimeout(resolve, 500));
      const idle = await usedMemory(redis);
      const cpuStart = await cpuSnapshot(stack, redis);
      await stack.enqueue(JOBS, request);
      const cpuEnqueued = await cpuSnapshot(stack, redis);
      context.log(`parked-memory: ${JOBS} jobs enqueued; waiting for all to park`);
      await waitUntil(stack, (c) => c.parked >= JOBS && c.active === 0 && c.waiting === 0, `${JOBS} parked`);
      const parked = await usedMemory(redis);
      const parkedJobs = (await stack.producer.queue(queue).getDelayed(0, SAMPLE - 1)).filter((job) => job.data.runId);
      const runIds = parkedJobs.map((job) => job.data.runId as string);
      const parkedParts = {
        jobHash: await mean(
          parkedJobs.map((job) => job.id as string),
          (id) => bullKey(id),
        ),
        runIndex: await mean(runIds, (id) => runQueueKey(stack.prefix, id)),
        delayedEntry: Math.round((await usage(bullKey('delayed'))) / JOBS),
        events: Math.round((await usage(bullKey('events'))) / JOBS),
      };

      context.log('parked-memory: releasing the callbacks');
      stack.sim.holdCallbacks(false);
      await stack.sim.releaseCallbacks();
      await waitUntil(stack, (c) => c.completed + c.failed >= JOBS, `${JOBS} finished`);
      const finishedAt = Date.now();
      const cpu = cpuPerJob({ start: cpuStart, enqueued: cpuEnqueued, end: await cpuSnapshot(stack, redis) }, JOBS);
      const { failed } = await stack.counts();
      const finished = await usedMemory(redis);
      const atFinish = await keyFamilies(redis, stack.prefix, stack.queues);
      const inboxStored = await mean(runIds, (id) => keys.inbox(id));

      // "24 h" later (plus a margin for the last jobs' keys), a few probe jobs finish and BullMQ's
      // removeOnComplete removes the jobs older than their age, as the next completions do in production.
      const dayLater = finishedAt + DAY_MS + 3_000;
      context.log(`parked-memory: all finished; simulating 24 h (${Math.round(DAY_MS / 1000)} s) of retention`);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, dayLater - Date.now())));
      const probes = await stack.producer.enqueueEdits(
        queue,
        Array.from({ length: PROBES }, (_, i) => request(JOBS + i)),
      );
      const probeIds = new Set<string>();
      for (const probe of probes) {
        const result = await stack.producer.waitForResult(queue, probe.id, { timeoutMs: 30_000 });
        const job = await stack.producer.queue(queue).getJob(probe.id);
        probeIds.add(probe.id);
        probeIds.add(result.runId);
        if (job?.data.clientRef) probeIds.add(job.data.clientRef);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      const isProbe = (key: string) => probeIds.has(key.slice(key.lastIndexOf(':') + 1));
      const afterDay = await keyFamilies(redis, stack.prefix, stack.queues, isProbe);
      const dayUsed = await usedMemory(redis);

      const perJobBytes = (families: FamilyUsage[]) =>
        families.filter((f) => f.perJob).reduce((sum, f) => sum + f.bytes, 0);
      const redisBytesKeptPerJob = Math.round(perJobBytes(afterDay) / JOBS);
      const perQueueAfterDay = afterDay.filter((f) => !f.perJob).reduce((sum, f) => sum + f.bytes, 0);
      const perParked = Math.round((parked - idle) / JOBS);
      const perFinished = Math.round((finished - idle) / JOBS);
      const families = [...new Set([...atFinish, ...afterDay].map((f) => f.family))];
      const bytesOf = (list: FamilyUsage[], family: string) => list.find((f) => f.family === family)?.bytes ?? 0;
      const familyRows: Row[] = families.map((family) => {
        const perJob = [...atFinish, ...afterDay].find((f) => f.family === family)?.perJob ?? false;
        return {
          state: perJob ? 'per job' : 'per queue',
          part: family,
          ttl: retentionOf(atFinish.find((f) => f.family === family)),
          bytes: perJob ? Math.round(bytesOf(atFinish, family) / JOBS) : bytesOf(atFinish, family),
          kept: perJob ? Math.round(bytesOf(afterDay, family) / JOBS) : bytesOf(afterDay, family),
        };
      });
      const rows: Row[] = [
        { state: 'parked', part: 'used_memory delta / job (INFO memory)', ttl: '', bytes: perParked, kept: null },
        {
          state: 'parked',
          part: 'job hash (data, opts, step, runId)',
          ttl: 'until finished',
          bytes: parkedParts.jobHash,
          kept: null,
        },
        { state: 'parked', part: 'run index: run-queue:<id>', ttl: '', bytes: parkedParts.runIndex, kept: null },
        {
          state: 'parked',
          part: 'delayed sorted-set entry',
          ttl: 'until woken',
          bytes: parkedParts.delayedEntry,
          kept: null,
        },
        {
          state: 'parked',
          part: 'events stream share (capped ~10k)',
          ttl: 'capped',
          bytes: parkedParts.events,
          kept: null,
        },
        {
          state: 'finished',
          part: 'used_memory delta / job (INFO memory)',
          ttl: '',
          bytes: perFinished,
          kept: Math.round((dayUsed - idle - perQueueAfterDay) / JOBS),
        },
        { state: 'finished', part: 'callback inbox payload (sampled)', ttl: '', bytes: inboxStored, kept: null },
        ...familyRows.map((row) => ({ ...row, state: `finished, ${row.state}` })),
        {
          state: 'finished',
          part: 'all per-job keys (redisBytesKeptPerJob after 24 h)',
          ttl: '',
          bytes: Math.round(perJobBytes(atFinish) / JOBS),
          kept: redisBytesKeptPerJob,
        },
      ];
      return {
        params: {
          jobs: JOBS,
          sampledJobs: parkedJobs.length,
          retentionDivisor: DIVISOR,
          simulatedDaySeconds: DAY_MS / 1000,
          probeJobs: PROBES,
          usedMemoryIdle: idle,
          usedMemoryParked: parked,
          usedMemoryFinished: finished,
          usedMemoryAfterDay: dayUsed,
          bytesPerParkedJob: perParked,
          bytesPerFinishedJob: perFinished,
        },
        summary: {
          redisBytesKeptPerJob,
          bytesPerParkedJob: perParked,
          bytesPerFinishedJob: perFinished,
          perQueueBytesAfterDay: perQueueAfterDay,
          ...cpu,
        },
        columns: [
          { key: 'state', header: 'job' },
          { key: 'part', header: 'what' },
          { key: 'ttl', header: 'kept' },
          { key: 'bytes', header: 'bytes / job (per queue: total)' },
          { key: 'kept', header: 'after 24 h' },
        ],
        rows,
        problems: failed > 0 ? [`${failed} of ${JOBS} jobs failed (logs in ${context.logDir})`] : [],
        notes: [
          [
            `${JOBS} jobs of google/nano-banana-pro/edit (one image URL, a ~50-character prompt), one queue.`,
            'Parked: submitted to Runflow, delayed, callback held. Finished: completed by callback.',
            `"After 24 h": every retention divided by ${DIVISOR} (RETENTION_DIVISOR, producer ages), ${DAY_MS / 1000} s waited after the`,
            `last job finished, ${PROBES} probe jobs run so BullMQ removes aged jobs (their keys not counted); keys weighed`,
            'by family with MEMORY USAGE (a SCAN of the prefix, which also drops expired keys). Per-queue rows are',
            'totals, bounded whatever the volume (events stream ~10k entries, metrics one week of minutes).',
          ].join('\n'),
          cpuNote('park + finish', cpu),
        ],
      };
    } finally {
      redis.disconnect();
      await stack.close();
    }
  },
};
