import { Cluster, Redis, type RedisOptions } from 'ioredis';

/**
 * One ioredis client from a URL. `redis://` and `rediss://` give a single node; a comma-separated list
 * of nodes behind `redis+cluster://host:port,host:port` (or `rediss+cluster://` for TLS) gives a Cluster client.
 * `maxRetriesPerRequest: null` is what BullMQ workers need (commands wait through a Redis restart);
 * producers pass a small number so calls fail fast while Redis is down.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis | Cluster {
  const cluster = /^(rediss?)\+cluster:\/\//.exec(url);
  if (cluster) {
    // rediss+cluster:// → TLS to every node (managed clusters).
    if (cluster[1] === 'rediss') options = { ...options, tls: options.tls ?? {} };
    const nodes = url
      .slice(cluster[0].length)
      .split(',')
      .map((hostPort) => {
        const [host, port] = hostPort.split(':');
        return { host, port: Number(port ?? 6379) };
      });
    return new Cluster(nodes, { redisOptions: options, enableOfflineQueue: options.enableOfflineQueue ?? true });
  }
  return new Redis(url, options);
}

/** A new connection like `client` that waits through outages, as BullMQ's blocking readers need. */
export function duplicateForBlocking(client: Redis | Cluster): Redis | Cluster {
  if (client instanceof Cluster) {
    return client.duplicate(undefined, {
      redisOptions: { ...client.options.redisOptions, maxRetriesPerRequest: null },
    });
  }
  return client.duplicate({ maxRetriesPerRequest: null, commandTimeout: undefined });
}
