export { buildApp, CALLBACK_PATH, type IngestDeps } from './app.ts';
export { INGEST_LIMITS, IngestEnv, parseEnv } from './env.ts';
export { type SignatureCheck, verifySignature } from './verify-signature.ts';
