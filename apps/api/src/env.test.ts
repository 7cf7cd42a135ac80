import { describe, expect, it } from 'vitest';
import { parseEnv } from './env.ts';

describe('api env', () => {
  it('has the documented defaults', () => {
    const env = parseEnv({ API_TOKENS: 'svc-a-0123456789abcdef, svc-b-0123456789abcdef' });
    expect(env).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: 'rfq',
      QUEUES: ['edits'],
      API_TOKENS: ['svc-a-0123456789abcdef', 'svc-b-0123456789abcdef'],
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
});
