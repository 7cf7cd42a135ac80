import { readdirSync } from 'node:fs';
import { uniquePrefix } from '@runflow-queue/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LuaScript } from './lua-script.ts';

// Every script of ours goes through one loader that checks its contract: the key count in its file
// name, the keys its header declares, and the keys each call passes.

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(() => redis.quit());

const names = readdirSync(new URL('./lua/', import.meta.url))
  .filter((file) => file.endsWith('.lua'))
  .map((file) => file.slice(0, -'.lua'.length));

describe('Lua scripts', () => {
  it('each is named for its key count and declares exactly those keys, with Input / Output / Events', () => {
    expect(names.length).toBeGreaterThanOrEqual(8);
    for (const name of names) {
      const script = new LuaScript(name);
      expect(script.source(), name).toMatch(/^-- Input:$/m);
      expect(script.numberOfKeys, name).toBeGreaterThan(0);
    }
  });

  it('refuses a name without a key count, and a call with the wrong number of keys, before Redis runs it', async () => {
    expect(() => new LuaScript('settle-run')).toThrow(/must end in its number of keys/);
    const script = new LuaScript('inflight-acquire-2');
    const key = `${uniquePrefix()}:{inflight}:m`;
    const args = ['q/1', 1, Date.now(), 60_000, 'm', 5_000, 600_000];
    await expect(script.run(redis, [key], args)).rejects.toThrow(/takes 2 keys, was given 1/);
    expect(await redis.exists(key)).toBe(0);
    expect(await script.run(redis, [key, `${key}:caps`], args)).toEqual([1, 1, 1]);
    await redis.del(key);
  });
});
