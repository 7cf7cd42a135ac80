export {
  HttpUrl,
  MAX_IMAGE_URLS,
  MAX_NUM_IMAGES,
  MAX_PROMPT_CHARS,
  MAX_URL_CHARS,
  NanoBanana2EditInput,
  NanoBananaProEditInput,
} from './edit-input.ts';
export {
  EditRequest,
  type EditRequestInput,
  EditValidationError,
  type FieldIssue,
  formatFieldIssues,
  JobTags,
  parseEditRequest,
  RequestTags,
  toFieldIssues,
} from './edit-request.ts';
export { embeddedIPv4 } from './embedded-ipv4.ts';
export { ERROR_CODES, type ErrorCode, failureCode, formatFailure, RunflowQueueError } from './error-codes.ts';
export { type Align, formatTable } from './format-table.ts';
export {
  CompletedBy,
  EditJobData,
  EditResult,
  JobStep,
  QueuedJobData,
  SubmittedJobData,
  SubmittingJobData,
} from './job-data.ts';
export { jsonDepth, MAX_BODY_DEPTH, tooDeep } from './json-depth.ts';
export { LEDGER_NAME_PATTERN, LedgerName } from './ledger-name.ts';
export {
  getModel,
  isModelId,
  MODEL_IDS,
  MODELS,
  type ModelId,
  ModelIdField,
  type ModelSpec,
  type PricePoint,
  type Surcharge,
} from './models.ts';
export { formatMicroUsd, MICRO_PER_USD, microToUsdString, parseUsdToMicro } from './money.ts';
export {
  type AddressClass,
  addressRejection,
  bareHost,
  classifyAddress,
  MAX_NOTIFY_URL_CHARS,
  type NotifyUrlPolicy,
  notifyUrlRejection,
} from './notify-url-policy.ts';
export { parseConfig } from './parse-config.ts';
export {
  estimateCostMicroUsd,
  estimatedSurcharges,
  type PricedRun,
  perImageMicroUsd,
  priceDeliveredMicroUsd,
  priceOn,
  priceTerminalRun,
  type TerminalRunCost,
  utcDay,
} from './pricing.ts';
export {
  CallbackPayload,
  extractOutputs,
  isSuccessStatus,
  isTerminalStatus,
  parseErrorEnvelope,
  Run,
  type RunflowErrorBody,
  RunMetadata,
  RunOutputItem,
  runFailure,
} from './run.ts';
export {
  coded4xx,
  type ServerLimits,
  serverLimitOptions,
  serverLimitsEnv,
  serverLimitsOf,
} from './server-limits.ts';
export {
  BudgetPolicy,
  QUEUE_NAME_PATTERN,
  QueueBudget,
  RateLimitConfig,
  WorkloadQueue,
  WorkloadsConfig,
  type WorkloadsConfigInput,
} from './workloads-config.ts';
