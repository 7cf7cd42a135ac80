import { type EditJobData, type EditResult, failureCode } from '@runflow-queue/shared';
import { bullPrefix, type RedisClient } from '@runflow-queue/store';
import { queueTelemetry } from '@runflow-queue/tracing';
import { type Job, Queue } from 'bullmq';
import type { DeliveryAttempt, NotificationJobData, WebhookPayload } from './webhook-payload.ts';

/** The BullMQ queue that holds webhook deliveries. */
export const NOTIFY_QUEUE = 'webhooks';
/**
 * Its hash tag. Edit queue names match [a-z0-9][a-z0-9_-]*, so a tag starting with `_` can never
 * collide with an edit queue's keys.
 */
export const NOTIFY_TAG = '_notify';

export function notifyPrefix(prefix: string): string {
  return bullPrefix(prefix, NOTIFY_TAG);
}

export interface NotifierLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EditNotifierOptions {
  /** A BullMQ-ready connection (the worker's), not closed by the notifier. */
  connection: RedisClient;
  prefix: string;
  logger: NotifierLogger;
  /** Delivery attempts per webhook (default 16: about 5 h of retries with the default backoff). */
  attempts?: number;
  /** First retry delay; doubles per attempt up to an hour, ±20 % jitter (default 1 s). */
  backoffMs?: number;
  /** Delivered webhooks are kept this long (default 7 days), failed ones 30 days, with their attempt logs. */
  keepDeliveredMs?: number;
}

export type EditOutcome = { result: EditResult } | { failedReason: string };

/** The notification job id of an edit job: deterministic, so a retried worker never enqueues twice. */
export function notificationJobId(editQueue: string, editJobId: string, generation = 0): string {
  return `${editQueue}.${editJobId}${generation > 0 ? `.r${generation}` : ''}`;
}

/** The `webhook-id` header: `<queue>:<jobId>` (with `:r<n>` after an operator's retry of a failed job). */
export function webhookId(editQueue: string, editJobId: string, generation = 0): string {
  return `${editQueue}:${editJobId}${generation > 0 ? `:r${generation}` : ''}`;
}

/** Enqueues signed webhook deliveries for edit jobs that asked for one (`notifyUrl`). */
export class EditNotifier {
  readonly queue: Queue<NotificationJobData>;
  readonly #logger: NotifierLogger;
  readonly #attempts: number;
  readonly #backoffMs: number;
  readonly #keepDeliveredMs: number;

  constructor(options: EditNotifierOptions) {
    this.queue = new Queue<NotificationJobData>(NOTIFY_QUEUE, {
      connection: options.connection,
      prefix: notifyPrefix(options.prefix),
      // With tracing on, a delivery continues the trace of the edit job that queued it.
      telemetry: queueTelemetry(),
    });
    this.queue.on('error', (err) => options.logger.warn({ err: err.message }, 'notification queue error'));
    this.#logger = options.logger;
    this.#attempts = options.attempts ?? 16;
    this.#backoffMs = options.backoffMs ?? 1_000;
    this.#keepDeliveredMs = options.keepDeliveredMs ?? 7 * 24 * 3600_000;
  }

  /**
   * Called when an edit job reaches its end, BEFORE BullMQ records it: if the worker dies after this,
   * the job runs its last step again and this add finds the same job id and adds nothing.
   */
  async editFinished(editQueue: string, job: Job<EditJobData, unknown>, outcome: EditOutcome): Promise<void> {
    const url = job.data.notifyUrl;
    if (!url) return;
    const editJobId = job.id as string;
    const generation = job.data.manualRetries ?? 0;
    const payload: WebhookPayload = {
      type: 'result' in outcome ? 'edit.completed' : 'edit.failed',
      id: editJobId,
      queue: editQueue,
      timestamp: new Date().toISOString(),
      ...(job.data.tags ? { tags: job.data.tags } : {}),
      data:
        'result' in outcome
          ? outcome.result
          : { code: failureCode(outcome.failedReason) ?? 'UNKNOWN', reason: outcome.failedReason },
    };
    const jobId = notificationJobId(editQueue, editJobId, generation);
    await this.queue.add(
      payload.type,
      {
        url,
        webhookId: webhookId(editQueue, editJobId, generation),
        type: payload.type,
        body: JSON.stringify(payload),
        editQueue,
        editJobId,
      },
      {
        jobId,
        attempts: this.#attempts,
        backoff: { type: 'webhook', delay: this.#backoffMs },
        removeOnComplete: { age: Math.ceil(this.#keepDeliveredMs / 1000) },
        removeOnFail: { age: 30 * 24 * 3600 },
        keepLogs: 50,
      },
    );
    this.#logger.debug(
      { queue: editQueue, jobId: editJobId, type: payload.type, notificationId: jobId },
      'webhook queued',
    );
  }

  /** Every delivery attempt of an edit job's webhook, oldest first (status, error, duration). */
  async attempts(editQueue: string, editJobId: string, generation = 0): Promise<DeliveryAttempt[]> {
    const { logs } = await this.queue.getJobLogs(notificationJobId(editQueue, editJobId, generation), 0, -1, true);
    return logs.flatMap((line) => {
      try {
        return [JSON.parse(line) as DeliveryAttempt];
      } catch {
        return [];
      }
    });
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
