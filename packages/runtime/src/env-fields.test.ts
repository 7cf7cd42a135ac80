import { describe, expect, it } from 'vitest';
import { envFields } from './env-fields.ts';

describe('REDIS_URL', () => {
  it('takes one node, or the node list of a Redis Cluster (as the README documents)', () => {
    for (const url of [
      'redis://127.0.0.1:6379',
      'rediss://:secret@redis.internal:6380/0',
      'redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002',
      'rediss+cluster://node-a:6380,node-b',
    ]) {
      expect(envFields.REDIS_URL.parse(url)).toBe(url);
    }
  });

  it('names what to use for anything else', () => {
    for (const url of ['localhost:6379', 'http://redis:6379', 'redis+cluster://a:1,,b:2']) {
      expect(() => envFields.REDIS_URL.parse(url)).toThrow(
        /redis:\/\/host:port .* redis\+cluster:\/\/host:port,host:port/,
      );
    }
  });
});
