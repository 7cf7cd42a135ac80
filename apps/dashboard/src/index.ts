export { BOARD_PATH, buildApp, type DashboardDeps } from './app.ts';
export { guardBoardWrites, sameOriginWrite } from './board-access.ts';
export { BOARD_CALLER, boardJob } from './board-job-request.ts';
export {
  type Credentials,
  challengeFor,
  createCredentialCheck,
  type DashboardAuth,
  type DashboardRole,
} from './check-credentials.ts';
export { EditQueueAdapter, stepProgress } from './edit-queue-adapter.ts';
export { DASHBOARD_LIMITS, DashboardEnv, parseEnv } from './env.ts';
export { jobDataSchema } from './job-data-schema.ts';
export { REDACTED, redactSecrets } from './redact-secrets.ts';
export { renderSpendPage, type SpendPageInput } from './spend-page.ts';
