import type { RunflowClient } from '@runflow-queue/runflow-client';
import type { EditJobData, EditResult } from '@runflow-queue/shared';
import { bullPrefix, CallbackInbox, type RedisClient, RunIndex, SpendLedger } from '@runflow-queue/store';
import { Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { LifecycleHooks } from './job-context.ts';
import type { LifecycleConfig } from './lifecycle-config.ts';
import { createEditProcessor } from './process-edit-job.ts';

export interface EditWorkersOptions {
  /** Shared by all queues; BullMQ needs `maxRetriesPerRequest: null` on it. */
  connection: RedisClient;
  prefix: string;
  queues: readonly string[];
  /** Jobs held at once per queue; parked jobs hold none. */
  concurrency: number;
  client: RunflowClient;
  lifecycle: LifecycleConfig;
  logger: Logger;
  hooks?: LifecycleHooks;
  /** BullMQ lock: a worker that dies mid-job frees it after this (default 30 s). */
  lockDurationMs?: number;
  /** Steps are idempotent, so a job may stall (its worker killed) many times without failing. */
  maxStalledCount?: number;
  now?: () => number;
}

export interface EditWorkers {
  workers: Worker<EditJobData, EditResult>[];
  /** Stops pulling, lets active jobs finish or park, closes the BullMQ connections. */
  close(): Promise<void>;
}

export async function startEditWorkers(options: EditWorkersOptions): Promise<EditWorkers> {
  const { connection, prefix, logger } = options;
  const inbox = new CallbackInbox(connection, { prefix });
  const runIndex = new RunIndex(connection, { prefix });
  const ledger = new SpendLedger(connection, { prefix });
  const workers: Worker<EditJobData, EditResult>[] = [];
  for (const queue of options.queues) {
    await ledger.registerQueue(queue);
    const processor = createEditProcessor({
      queue,
      client: options.client,
      inbox,
      runIndex,
      ledger,
      lifecycle: options.lifecycle,
      logger,
      hooks: options.hooks,
      now: options.now ?? Date.now,
    });
    const worker = new Worker<EditJobData, EditResult>(queue, processor, {
      connection,
      prefix: bullPrefix(prefix, queue),
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 20,
    });
    worker.on('error', (err) => logger.error({ err, queue }, 'worker error'));
    worker.on('failed', (job, err) => {
      if (job)
        logger.warn(
          { queue, jobId: job.id, model: job.data.model, runId: job.data.runId, reason: err.message },
          'job failed',
        );
    });
    workers.push(worker);
  }
  return {
    workers,
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}
