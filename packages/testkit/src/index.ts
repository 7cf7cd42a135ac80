export {
  freePort,
  type StartedRedis,
  type StartRedisOptions,
  spawnRedisServer,
  startRedis,
  waitForRedis,
} from './start-redis.ts';
export { uniquePrefix } from './unique-prefix.ts';
