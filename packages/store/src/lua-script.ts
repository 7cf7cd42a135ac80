import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

/** A Lua script from `./lua/`, run with EVALSHA and loaded on NOSCRIPT (per node, so it works on Cluster). */
export class LuaScript {
  readonly name: string;
  #source: string | undefined;
  #sha: string | undefined;

  constructor(name: string) {
    this.name = name;
  }

  #load(): { source: string; sha: string } {
    if (this.#source === undefined || this.#sha === undefined) {
      this.#source = readFileSync(new URL(`./lua/${this.name}.lua`, import.meta.url), 'utf8');
      this.#sha = createHash('sha1').update(this.#source).digest('hex');
    }
    return { source: this.#source, sha: this.#sha };
  }

  async run(redis: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const { source, sha } = this.#load();
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes('NOSCRIPT')) throw error;
      return redis.eval(source, keys.length, ...keys, ...args);
    }
  }
}
