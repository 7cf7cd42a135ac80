import { LuaScript, type RedisClient } from './lua-script.ts';

const holdScript = new LuaScript('lease-hold-1');
const releaseScript = new LuaScript('lease-release-1');

/**
 * A lease in Redis: whoever holds it does the work, the others wait. It expires by itself when its
 * holder dies (SIGKILL), so another process takes over within one lease duration.
 */
export class RedisLease {
  readonly #redis: RedisClient;
  readonly #key: string;
  readonly holder: string;
  readonly #durationMs: number;

  constructor(redis: RedisClient, options: { key: string; holder: string; durationMs: number }) {
    this.#redis = redis;
    this.#key = options.key;
    this.holder = options.holder;
    this.#durationMs = options.durationMs;
  }

  /** Takes the lease, or renews it when this holder has it; false when another holder has it. */
  async hold(): Promise<boolean> {
    return (await holdScript.run(this.#redis, [this.#key], [this.holder, this.#durationMs])) === 1;
  }

  async release(): Promise<void> {
    await releaseScript.run(this.#redis, [this.#key], [this.holder]);
  }
}
