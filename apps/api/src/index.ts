export { type ApiCaller, DEFAULT_CALLER_NAME } from './api-callers.ts';
export {
  BatchBody,
  CancelBody,
  CreateEditBody,
  EditItem,
  EditStatusBody,
  Enqueued,
  ErrorBody,
  MAX_BATCH_ITEMS,
} from './api-schemas.ts';
export { type ApiDeps, buildApp, MAX_WAIT_MS } from './app.ts';
export { createTokenCheck } from './bearer-auth.ts';
export { API_LIMITS, ApiEnv, parseEnv } from './env.ts';
export { buildOpenApiDocument } from './openapi-document.ts';
