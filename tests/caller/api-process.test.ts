import { spawnApp } from '@runflow-queue/runtime';
import { uniquePrefix } from '@runflow-queue/testkit';
import { describe, expect, inject, it } from 'vitest';
import { waitFor } from '../support/fleet.ts';

const TOKEN = 'svc-ops-0123456789abcdef';

describe('the api process', () => {
  it('boots from its env, serves, keeps tokens out of its logs and stops on SIGTERM', async () => {
    const api = spawnApp('api', {
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: uniquePrefix(),
      QUEUES: 'catalog,bulk',
      API_TOKENS: TOKEN,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'trace',
    });
    const address = await waitFor(
      async () => /"address":"(http:\/\/[^"]+)"/.exec(api.output())?.[1],
      20_000,
      'listening',
    );
    expect(await (await fetch(`${address}/readyz`)).json()).toEqual({ ok: true });
    expect((await fetch(`${address}/v1/edits/1?queue=catalog`)).status).toBe(401);
    const authorized = await fetch(`${address}/v1/edits/1?queue=catalog`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(authorized.status).toBe(404);
    const wrongQueue = await fetch(`${address}/v1/edits/1?queue=edits`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(await wrongQueue.json()).toMatchObject({ code: 'UNKNOWN_QUEUE' });
    expect(await api.stop()).toEqual({ code: 0, signal: null });
    expect(api.output()).toContain('"tokenCount":1');
    expect(api.output()).not.toContain(TOKEN);
  });

  it('exits 78 naming the variable when its config is bad', async () => {
    const api = spawnApp('api', { API_TOKENS: 'too-short' });
    expect((await api.exited).code).toBe(78);
    expect(api.output()).toContain('API_TOKENS=(hidden)');
    expect(api.output()).not.toContain('too-short');
  });
});
