import { runQueueKey } from './keys.ts';
import type { RedisClient } from './lua-script.ts';
import { RETENTION_SECONDS, retentionSeconds } from './retention.ts';

export interface RunLocation {
  queue: string;
  jobId: string;
}

/**
 * run → queue and job: how a callback without our metadata still finds its job. One global key per
 * run (`run-queue:<runId>`, its own Cluster slot), value `queue\njobId` — a queue name has no newline.
 */
export class RunIndex {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #ttlSeconds: number;

  constructor(redis: RedisClient, options: { prefix: string; ttlSeconds?: number; retentionDivisor?: number }) {
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.#ttlSeconds = options.ttlSeconds ?? retentionSeconds(RETENTION_SECONDS.runIndex, options.retentionDivisor);
  }

  async record(queue: string, runId: string, jobId: string): Promise<void> {
    await this.#redis.set(runQueueKey(this.#prefix, runId), `${queue}\n${jobId}`, 'EX', this.#ttlSeconds);
  }

  async locate(runId: string): Promise<RunLocation | undefined> {
    const raw = await this.#redis.get(runQueueKey(this.#prefix, runId));
    if (raw === null) return undefined;
    // Written by an earlier deploy: JSON {queue, jobId}.
    if (raw.startsWith('{')) return JSON.parse(raw) as RunLocation;
    const newline = raw.indexOf('\n');
    return { queue: raw.slice(0, newline), jobId: raw.slice(newline + 1) };
  }
}
