import type { NotifyUrlPolicy } from '@runflow-queue/shared';
import { formatFailure } from '@runflow-queue/shared';
import type { RedisClient } from '@runflow-queue/store';
import { ATTR, inSpan, queueTelemetry, SPAN } from '@runflow-queue/tracing';
import { type Job, type MinimalJob, UnrecoverableError, Worker } from 'bullmq';
import { logTarget, NotifyUrlRejectedError, WebhookSender } from './deliver-webhook.ts';
import { NOTIFY_QUEUE, type NotifierLogger, notifyPrefix } from './edit-notifier.ts';
import type { DeliveryAttempt, NotificationJobData } from './webhook-payload.ts';

/** Longest wait between two attempts. */
const MAX_BACKOFF_MS = 3600_000;

/** Exponential from the job's `backoff.delay`, doubling per attempt, capped at an hour, ±20 % jitter. */
export function webhookBackoffMs(attemptsMade: number, baseMs: number, random = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(ceiling * (0.8 + 0.4 * random()));
}

export interface NotificationWorkerOptions {
  /** A BullMQ-ready connection (`maxRetriesPerRequest: null`), not closed by the worker. */
  connection: RedisClient;
  prefix: string;
  /** NOTIFY_SIGNING_SECRET: one or more (comma-separated in env) during a rotation. */
  secrets: readonly string[];
  policy: NotifyUrlPolicy;
  logger: NotifierLogger;
  /** Deliveries in flight at once (default 16). */
  concurrency?: number;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
}

export interface NotificationWorker {
  worker: Worker<NotificationJobData>;
  close(): Promise<void>;
}

/**
 * Delivers the queued webhooks: sign (Standard Webhooks), POST, 2xx = delivered; anything else is
 * retried with backoff. A target the policy forbids — checked again here, after DNS resolution —
 * fails at once with NOTIFY_URL_REJECTED. Every attempt is recorded in the job's logs.
 */
export function startNotificationWorker(options: NotificationWorkerOptions): NotificationWorker {
  const { logger } = options;
  const sender = new WebhookSender({ secrets: options.secrets, policy: options.policy, timeoutMs: options.timeoutMs });
  const processor = (job: Job<NotificationJobData>): Promise<{ status: number }> =>
    inSpan(
      SPAN.notify,
      {
        attributes: () => ({
          [ATTR.queue]: job.data.editQueue,
          [ATTR.jobId]: job.data.editJobId,
          'rfq.webhookId': job.data.webhookId,
          'rfq.webhookType': job.data.type,
          'rfq.attempt': job.attemptsMade + 1,
        }),
      },
      async (span) => {
        const delivered = await deliver(job);
        span.setAttribute('http.response.status_code', delivered.status);
        return delivered;
      },
    );
  const deliver = async (job: Job<NotificationJobData>): Promise<{ status: number }> => {
    const attempt = job.attemptsMade + 1;
    const at = Date.now();
    const log = { notificationId: job.id, webhookId: job.data.webhookId, target: logTarget(job.data.url), attempt };
    const record = (entry: Omit<DeliveryAttempt, 'attempt' | 'at' | 'durationMs'>) =>
      job.log(JSON.stringify({ attempt, at, durationMs: Date.now() - at, ...entry } satisfies DeliveryAttempt));
    let result: { status: number; ok: boolean };
    try {
      result = await sender.send(job.data);
    } catch (error) {
      const message = (error as Error).message;
      await record({ ok: false, error: message });
      if (
        error instanceof NotifyUrlRejectedError ||
        (error as { cause?: unknown }).cause instanceof NotifyUrlRejectedError
      ) {
        logger.warn({ ...log, reason: message }, 'webhook target rejected');
        throw new UnrecoverableError(formatFailure('NOTIFY_URL_REJECTED', message));
      }
      logger.info({ ...log, err: message }, 'webhook delivery failed; will retry');
      throw new Error(formatFailure('NOTIFY_DELIVERY_FAILED', message));
    }
    await record({ ok: result.ok, status: result.status });
    if (!result.ok) {
      logger.info({ ...log, status: result.status }, 'webhook receiver answered non-2xx; will retry');
      throw new Error(formatFailure('NOTIFY_DELIVERY_FAILED', `receiver answered ${result.status}`));
    }
    logger.debug({ ...log, status: result.status }, 'webhook delivered');
    return { status: result.status };
  };
  const worker = new Worker<NotificationJobData>(NOTIFY_QUEUE, processor, {
    connection: options.connection,
    prefix: notifyPrefix(options.prefix),
    concurrency: options.concurrency ?? 16,
    telemetry: queueTelemetry(),
    settings: {
      backoffStrategy: (attemptsMade: number, _type?: string, _err?: Error, job?: MinimalJob) => {
        const backoff = job?.opts.backoff;
        const base = typeof backoff === 'object' && backoff?.delay ? backoff.delay : 1_000;
        return webhookBackoffMs(attemptsMade, base);
      },
    },
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'notification worker error'));
  worker.on('failed', (job, err) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
      logger.warn({ notificationId: job.id, webhookId: job.data.webhookId, reason: err.message }, 'webhook given up');
    }
  });
  return {
    worker,
    async close() {
      await worker.close();
      await sender.close();
    },
  };
}
