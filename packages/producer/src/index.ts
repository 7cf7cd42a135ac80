export {
  type AddressClass,
  addressRejection,
  classifyAddress,
  MAX_NOTIFY_URL_CHARS,
  type NotifyUrlPolicy,
  notifyUrlRejection,
} from '@runflow-queue/shared';
export {
  BulkValidationError,
  type CallerEditRequest,
  callerRequestIssues,
  MAX_DELAY_MS,
  MAX_PRIORITY,
  validateCallerRequest,
} from './caller-request.ts';
export type { CancelOptions, CancelOutcome, CancelResult } from './cancel-edit.ts';
export type { EditStatus } from './edit-status.ts';
export { jobIdForKey } from './job-ids.ts';
export { DEFAULT_CALLER, jobOwner, visibleTo } from './job-owner.ts';
export {
  type CallerScope,
  createProducer,
  DEFAULT_IDEMPOTENCY_WINDOW_MS,
  DEFAULT_PRIORITY,
  type EditHandle,
  EditProducer,
  type EnqueueOptions,
  type ProducerOptions,
  validateEditRequest,
} from './producer.ts';
export { DEFAULT_RUN_MS, type Quote, type QuoteEta, type QuoteLine, type QuoteWindow } from './quote.ts';
export type { RetryFailedOptions, RetryOutcome } from './retry-failed.ts';
export { EditFailedError } from './wait-for-result.ts';
