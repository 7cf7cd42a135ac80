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
export { type ApiDeps, buildApp } from './app.ts';
export { createTokenCheck } from './bearer-auth.ts';
export { ApiEnv, parseEnv } from './env.ts';
export { buildOpenApiDocument } from './openapi-document.ts';
