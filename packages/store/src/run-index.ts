import { queueKeys, runQueueKey } from './keys.ts';
import type { RedisClient } from './lua-script.ts';

const DEFAULT_TTL_SECONDS = 30 * 24 * 3600;

export interface RunLocation {
  queue: string;
  jobId: string;
}

/** run → job: how a callback without our metadata still finds its job. */
export class RunIndex {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #ttlSeconds: number;

  constructor(redis: RedisClient, options: { prefix: string; ttlSeconds?: number }) {
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.#ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  }

  async record(queue: string, runId: string, jobId: string): Promise<void> {
    // Two slots on Cluster (per-queue key and global key), so two commands, not one transaction:
    // the per-queue key is the truth, the global one only routes metadata-less callbacks.
    await Promise.all([
      this.#redis.set(queueKeys(this.#prefix, queue).run(runId), jobId, 'EX', this.#ttlSeconds),
      this.#redis.set(runQueueKey(this.#prefix, runId), JSON.stringify({ queue, jobId }), 'EX', this.#ttlSeconds),
    ]);
  }

  async locate(runId: string): Promise<RunLocation | undefined> {
    const raw = await this.#redis.get(runQueueKey(this.#prefix, runId));
    return raw === null ? undefined : (JSON.parse(raw) as RunLocation);
  }

  async jobOf(queue: string, runId: string): Promise<string | undefined> {
    return (await this.#redis.get(queueKeys(this.#prefix, queue).run(runId))) ?? undefined;
  }
}
