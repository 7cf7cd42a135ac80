export { decodeOtlpJson, type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from './otlp-receiver.ts';
export { stopProcess, waitForHttp } from './process-control.ts';
export {
  freePort,
  type StartedRedis,
  type StartRedisOptions,
  spawnRedisServer,
  startRedis,
  waitForRedis,
} from './start-redis.ts';
export { type StartedRedisCluster, type StartRedisClusterOptions, startRedisCluster } from './start-redis-cluster.ts';
export { uniquePrefix } from './unique-prefix.ts';
