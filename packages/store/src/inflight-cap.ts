import { inflightKey } from './keys.ts';
import { LuaScript, type RedisClient } from './lua-script.ts';

const acquireScript = new LuaScript('inflight-acquire-1');

/** Optional cap of runs in flight on Runflow per model, across queues and replicas. */
export class InflightCaps {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #staleMs: number;

  /** `staleMs`: a slot older than this is taken back (its job vanished); default 2 h. */
  constructor(redis: RedisClient, options: { prefix: string; staleMs?: number }) {
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.#staleMs = options.staleMs ?? 2 * 3600_000;
  }

  async acquire(model: string, member: string, cap: number, now = Date.now()): Promise<boolean> {
    const held = await acquireScript.run(
      this.#redis,
      [inflightKey(this.#prefix, model)],
      [member, cap, now, this.#staleMs],
    );
    return held === 1;
  }

  async release(model: string, member: string): Promise<void> {
    await this.#redis.hdel(inflightKey(this.#prefix, model), member);
  }

  async count(model: string): Promise<number> {
    return this.#redis.hlen(inflightKey(this.#prefix, model));
  }
}
