export {
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_CONNECTIONS,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_USER_AGENT,
  type RequestInfo,
  type RunflowClientLogger,
  type RunflowClientOptions,
} from './client-options.ts';
export {
  type Balance,
  type CreateRunBody,
  type CreateRunOptions,
  createRunflowClient,
  type GetRunOptions,
  type RunflowClient,
  type RunListWindow,
  type RunPage,
} from './create-client.ts';
export { parseRetryAfterMs } from './retry-after.ts';
export {
  CLIENT_ERROR_CODES,
  isRunflowApiError,
  RunflowApiError,
  type RunflowApiErrorInit,
  type RunflowEndpoint,
  type RunflowErrorKind,
} from './runflow-api-error.ts';
