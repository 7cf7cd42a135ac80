import { startRedis } from '@runflow-queue/testkit';
import type { TestProject } from 'vitest/node';

// One real Redis for the whole run (REDIS_URL, else testcontainers, else a spawned redis-server);
// every test isolates itself with a unique key prefix.
export default async function setup(project: TestProject) {
  const redis = await startRedis();
  project.provide('redisUrl', redis.url);
  return async () => redis.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
