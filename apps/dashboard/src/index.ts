export { BOARD_PATH, buildApp, type DashboardDeps } from './app.ts';
export { challengeFor, createCredentialCheck, type DashboardAuth } from './check-credentials.ts';
export { EditQueueAdapter, stepProgress } from './edit-queue-adapter.ts';
export { DashboardEnv, parseEnv } from './env.ts';
export { jobDataSchema } from './job-data-schema.ts';
export { REDACTED, redactSecrets } from './redact-secrets.ts';
export { renderSpendPage, type SpendPageInput } from './spend-page.ts';
