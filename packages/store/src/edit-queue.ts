import type { EditJobData, EditResult } from '@runflow-queue/shared';
import { queueTelemetry } from '@runflow-queue/tracing';
import { Job, Queue } from 'bullmq';
import { bullPrefix } from './keys.ts';
import { LuaScript, type RedisClient } from './lua-script.ts';

// What the apps need of BullMQ's own records, in one place: opening an edit queue under our key
// layout (one hash tag per queue), promoting a parked job, and marking a job abandoned — the one
// script of ours that reads BullMQ's job hash (its `data`, `finishedOn` and lock keys).

export type EditQueue = Queue<EditJobData, EditResult>;

/** Anything with `warn` (pino or a test double): where a queue's connection errors go. */
export interface QueueErrorLog {
  warn(fields: object, message: string): void;
}

/**
 * An edit queue of `prefix` on `connection`, with the `'error'` listener every BullMQ object needs
 * (without one, a Redis hiccup is an unhandled 'error' event that kills the process).
 */
export function openQueue(
  connection: RedisClient,
  prefix: string,
  name: string,
  log: QueueErrorLog = { warn: () => {} },
): EditQueue {
  const queue = new Queue<EditJobData, EditResult>(name, {
    connection,
    prefix: bullPrefix(prefix, name),
    // With tracing on, each job added carries the trace context of its enqueue (bullmq-otel).
    telemetry: queueTelemetry(),
  });
  queue.on('error', (err) => log.warn({ err: err.message, queue: name }, 'queue error'));
  return queue;
}

/**
 * Wakes a parked job now. False when it was not parked: still active (its worker re-checks the inbox
 * after parking), already waiting, finished or gone — each of which is fine for a caller that only
 * wants it to look at its result soon.
 */
export async function promoteJob(queue: Queue, jobId: string): Promise<boolean> {
  try {
    await new Job(queue, 'edit', {}, {}, jobId).promote();
    return true;
  } catch {
    return false;
  }
}

/**
 * The trace context a job carries (BullMQ's telemetry metadata, JSON of W3C headers), read without the
 * job's data; undefined for a job without one, or no such job.
 */
export async function jobTraceMetadata(redis: RedisClient, queue: Queue, jobId: string): Promise<string | undefined> {
  const raw = await redis.hget(queue.toKey(jobId), 'opts');
  if (!raw) return undefined;
  return Job.optsFromJSON(raw).telemetry?.metadata;
}

/** What a park may save in the job's hash with the move itself. */
export interface ParkFields<D> {
  /** The job's new data (JSON in the hash's `data` field, as updateData writes it). */
  data?: D;
  /** The priority the job is served with when it wakes (0: before every prioritized job). */
  priority?: number;
}

interface DelayingBackend {
  moveToDelayed(
    jobId: string,
    timestamp: number,
    delay: number,
    token: string,
    opts: { skipAttempt: boolean; fieldsToUpdate?: Record<string, string | number> },
  ): Promise<unknown>;
}

/**
 * Job.moveToDelayed that also saves the job's new data and priority in the same script: one round
 * trip where updateData + changePriority + moveToDelayed took three, and the data can never be saved
 * without the park (or the reverse). BullMQ's moveToDelayed-11.lua takes "optional job fields to
 * update" (ARGV[7]) and its promote reads `priority` from the hash; Job.moveToDelayed does not expose
 * the fields, so this calls the job's backend the way Job does. edit-queue.test.ts checks it against
 * the installed BullMQ.
 */
export async function moveToDelayedWith<D, R>(
  job: Job<D, R>,
  wakeAt: number,
  token: string,
  fields: ParkFields<D>,
): Promise<void> {
  const fieldsToUpdate: Record<string, string | number> = {};
  if (fields.data !== undefined) fieldsToUpdate.data = JSON.stringify(fields.data);
  if (fields.priority !== undefined) fieldsToUpdate.priority = fields.priority;
  if (Object.keys(fieldsToUpdate).length === 0) return job.moveToDelayed(wakeAt, token);
  const now = Date.now();
  const delay = Math.max(0, wakeAt - now);
  const backend = (job as unknown as { backend: DelayingBackend }).backend;
  await backend.moveToDelayed(job.id as string, now, delay, token, { skipAttempt: true, fieldsToUpdate });
  job.delay = delay;
  if (fields.data !== undefined) job.data = fields.data;
  if (fields.priority !== undefined) job.priority = fields.priority;
}

const abandonScript = new LuaScript('abandon-job-2');

/** What abandonJob found: the job's step after marking it, or why it did not. */
export type AbandonAnswer = 'missing' | 'finished' | 'active' | EditJobData['step'];

const ANSWERS: readonly AbandonAnswer[] = ['missing', 'finished', 'active', 'queued', 'submitting', 'submitted'];

function isAbandonAnswer(value: string): value is AbandonAnswer {
  return (ANSWERS as readonly string[]).includes(value);
}

/** Marks a job abandoned atomically, unless a worker holds it now (see abandon-job-2.lua). */
export async function abandonJob(redis: RedisClient, queue: Queue, jobId: string, now: number): Promise<AbandonAnswer> {
  const jobKey = queue.toKey(jobId);
  const answer = String(await abandonScript.run(redis, [jobKey, `${jobKey}:lock`], [now]));
  if (!isAbandonAnswer(answer)) throw new Error(`abandon-job-2.lua answered ${JSON.stringify(answer)}`);
  return answer;
}
