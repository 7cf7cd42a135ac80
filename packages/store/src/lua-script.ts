import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

/**
 * A Lua script from `./lua/`, named like BullMQ's own scripts: `<name>-<number of keys>.lua`, with a
 * header of Input (KEYS, ARGV), Output and Events. The loader checks both: the header must declare
 * exactly the keys the file name says, and every call must pass that many keys. Run with EVALSHA,
 * loaded on NOSCRIPT (per node, so it works on Redis Cluster).
 */
export class LuaScript {
  readonly name: string;
  readonly numberOfKeys: number;
  #source: string | undefined;
  #sha: string | undefined;

  constructor(name: string) {
    const match = /^[a-z][a-z0-9-]*-(\d+)$/.exec(name);
    if (!match) throw new Error(`Lua script "${name}": the name must end in its number of keys, e.g. settle-run-5`);
    this.name = name;
    this.numberOfKeys = Number(match[1]);
  }

  /** The source, checked against its contract (read once). */
  source(): string {
    return this.#load().source;
  }

  #load(): { source: string; sha: string } {
    if (this.#source === undefined || this.#sha === undefined) {
      const source = readFileSync(new URL(`./lua/${this.name}.lua`, import.meta.url), 'utf8');
      checkHeader(this.name, this.numberOfKeys, source);
      this.#source = source;
      this.#sha = createHash('sha1').update(source).digest('hex');
    }
    return { source: this.#source, sha: this.#sha };
  }

  async run(redis: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    if (keys.length !== this.numberOfKeys) {
      throw new Error(`Lua script ${this.name} takes ${this.numberOfKeys} keys, was given ${keys.length}`);
    }
    const { source, sha } = this.#load();
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes('NOSCRIPT')) throw error;
      return redis.eval(source, keys.length, ...keys, ...args);
    }
  }
}

/** The leading comment block declares Input, Output and Events, and KEYS[1..n] for exactly n keys. */
function checkHeader(name: string, numberOfKeys: number, source: string): void {
  const header = source
    .split('\n')
    .filter((_line, i, lines) => lines.slice(0, i + 1).every((l) => l.startsWith('--')))
    .join('\n');
  for (const section of ['Input:', 'Output:', 'Events:']) {
    if (!header.includes(`-- ${section}`))
      throw new Error(`Lua script ${name}: its header has no "${section}" section`);
  }
  const declared = new Set([...header.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1])));
  const expected = Array.from({ length: numberOfKeys }, (_, i) => i + 1);
  if (declared.size !== numberOfKeys || !expected.every((k) => declared.has(k))) {
    throw new Error(
      `Lua script ${name}: the file name says ${numberOfKeys} keys, its header declares ${
        [...declared]
          .sort()
          .map((k) => `KEYS[${k}]`)
          .join(', ') || 'none'
      }`,
    );
  }
}
