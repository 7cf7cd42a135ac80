export {
  type AddressClass,
  addressRejection,
  classifyAddress,
  type NotifyUrlPolicy,
  notifyUrlRejection,
} from '@runflow-queue/shared';
export {
  guardedLookup,
  NotifyUrlRejectedError,
  type Resolver,
  type SendResult,
  WebhookSender,
} from './deliver-webhook.ts';
export {
  EditNotifier,
  type EditNotifierOptions,
  type EditOutcome,
  NOTIFY_QUEUE,
  NOTIFY_TAG,
  type NotifierLogger,
  notificationJobId,
  notifyPrefix,
  webhookId,
} from './edit-notifier.ts';
export {
  type NotificationWorker,
  type NotificationWorkerOptions,
  startNotificationWorker,
  webhookBackoffMs,
} from './notification-worker.ts';
export { signWebhook, verifyWebhook, type WebhookCheck, type WebhookHeaders, webhookKey } from './sign-webhook.ts';
export type { DeliveryAttempt, NotificationJobData, WebhookPayload, WebhookType } from './webhook-payload.ts';
