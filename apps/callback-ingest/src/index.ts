// What tests and the benchmarks use of callback-ingest (the app itself runs from main.ts).
export { buildApp, CALLBACK_PATH } from './app.ts';
export { INGEST_LIMITS, IngestEnv, parseEnv } from './env.ts';
