import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { uniquePrefix } from '@runflow-queue/testkit';
import { describe, expect, inject, it } from 'vitest';
import { waitFor } from '../support/fleet.ts';
import { exited } from '../support/worker-process.ts';

const API_MAIN = fileURLToPath(new URL('../../apps/api/src/main.ts', import.meta.url));
const TOKEN = 'svc-ops-0123456789abcdef';

describe('the api process', () => {
  it('boots from its env, serves, keeps tokens out of its logs and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [API_MAIN], {
      env: {
        PATH: process.env.PATH,
        REDIS_URL: inject('redisUrl'),
        REDIS_PREFIX: uniquePrefix(),
        QUEUES: 'catalog,bulk',
        API_TOKENS: TOKEN,
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'trace',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let logs = '';
    child.stdout.on('data', (chunk) => {
      logs += chunk;
    });
    child.stderr.on('data', (chunk) => {
      logs += chunk;
    });
    const address = await waitFor(async () => /"address":"(http:\/\/[^"]+)"/.exec(logs)?.[1], 10_000, 'listening');
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
    child.kill('SIGTERM');
    expect(await exited(child)).toEqual({ code: 0, signal: null });
    expect(logs).toContain('"tokenCount":1');
    expect(logs).not.toContain(TOKEN);
  });

  it('exits 78 naming the variable when its config is bad', async () => {
    const child = spawn(process.execPath, [API_MAIN], {
      env: { PATH: process.env.PATH, API_TOKENS: 'too-short' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    expect((await exited(child)).code).toBe(78);
    expect(stderr).toContain('API_TOKENS=(hidden)');
    expect(stderr).not.toContain('too-short');
  });
});
