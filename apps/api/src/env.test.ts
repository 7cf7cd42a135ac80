import { describe, expect, it } from 'vitest';
import { parseEnv } from './env.ts';

describe('api env', () => {
  it('has the documented defaults', () => {
    const env = parseEnv({ API_TOKENS: 'svc-a-0123456789abcdef, svc-b-0123456789abcdef' });
    expect(env).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: 'rfq',
      QUEUES: ['edits'],
      API_TOKENS: [
        { name: 'default', token: 'svc-a-0123456789abcdef' },
        { name: 'default', token: 'svc-b-0123456789abcdef' },
      ],
      API_ADMIN_TOKENS: [],
      REQUEST_TIMEOUT_MS: 30_000,
      HEADERS_TIMEOUT_MS: 10_000,
      MAX_CONNECTIONS: 5_000,
      HOST: '0.0.0.0',
      PORT: 3200,
      NOTIFY_ALLOW_HTTP_LOOPBACK: false,
      NOTIFY_ALLOW_PRIVATE_NETWORKS: false,
      LOG_LEVEL: 'info',
    });
    expect(parseEnv({ API_TOKENS: 'svc-a-0123456789abcdef', QUEUES: 'catalog,bulk' }).QUEUES).toEqual([
      'catalog',
      'bulk',
    ]);
  });

  it('names every bad variable and never shows a token', () => {
    const error = (() => {
      try {
        parseEnv({ API_TOKENS: 'short-secret', PORT: 'http', QUEUES: 'Bad Queue' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toContain('API_TOKENS=(hidden): each API token needs at least 16 characters');
    expect(error?.message).toContain('PORT="http"');
    expect(error?.message).toContain('QUEUES="Bad Queue"');
    expect(error?.message).not.toContain('short-secret');
    expect(() => parseEnv({})).toThrow(/API_TOKENS=null: set API_TOKENS/);
  });

  it('reads named callers and admins, and refuses a bad name or a token listed twice', () => {
    const env = parseEnv({
      API_TOKENS: 'catalog:cat-0123456789abcdef, search:sea-0123456789abcdef',
      API_ADMIN_TOKENS: 'ops:ops-0123456789abcdef, adm-0123456789abcdef',
    });
    expect(env.API_TOKENS).toEqual([
      { name: 'catalog', token: 'cat-0123456789abcdef' },
      { name: 'search', token: 'sea-0123456789abcdef' },
    ]);
    expect(env.API_ADMIN_TOKENS).toEqual([
      { name: 'ops', token: 'ops-0123456789abcdef', admin: true },
      { name: 'admin', token: 'adm-0123456789abcdef', admin: true },
    ]);
    expect(() => parseEnv({ API_TOKENS: 'bad|name:cat-0123456789abcdef' })).toThrow(/a caller name is 1 to 64/);
    expect(() =>
      parseEnv({ API_TOKENS: 'a:cat-0123456789abcdef', API_ADMIN_TOKENS: 'b:cat-0123456789abcdef' }),
    ).toThrow(/a token is listed twice/);
  });
});
