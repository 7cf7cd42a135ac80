import type { EditResult, JobTags } from '@runflow-queue/shared';

export type WebhookType = 'edit.completed' | 'edit.failed';

/** What a receiver gets in the body of one webhook. */
export interface WebhookPayload {
  type: WebhookType;
  /** The edit job's id (as returned by enqueue). */
  id: string;
  queue: string;
  /** When the job finished, ISO 8601. */
  timestamp: string;
  /** The caller's tags (costCenter, labels), when the job had any. */
  tags?: JobTags;
  /** edit.completed: the EditResult (outputs, costMicroUsd, outputsExpireAt…); edit.failed: the failure. */
  data: EditResult | { code: string; reason: string };
}

/** What the notification queue holds per delivery: the exact body, fixed once, and where it goes. */
export interface NotificationJobData {
  url: string;
  /** `webhook-id`: stable across retries, so a receiver can drop a delivery it already handled. */
  webhookId: string;
  type: WebhookType;
  /** The JSON body, serialized once: every attempt sends (and signs) the same bytes. */
  body: string;
  editQueue: string;
  editJobId: string;
}

/** One delivery attempt, as recorded in the notification job's logs. */
export interface DeliveryAttempt {
  attempt: number;
  /** Epoch ms when the attempt started. */
  at: number;
  /** The receiver's HTTP status; absent when no response came. */
  status?: number;
  ok: boolean;
  durationMs: number;
  error?: string;
}
