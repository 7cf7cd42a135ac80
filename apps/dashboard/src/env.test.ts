import { describe, expect, it } from 'vitest';
import { DashboardEnv, parseEnv } from './env.ts';

describe('dashboard env', () => {
  it('reads the compose environment with its defaults', () => {
    const env = parseEnv({
      REDIS_URL: 'redis://redis:6379',
      QUEUES: 'edits, catalog',
      DASHBOARD_PASSWORD: 'local-dev-password',
    });
    expect(env).toMatchObject({
      PORT: 3100,
      HOST: '0.0.0.0',
      REDIS_PREFIX: 'rfq',
      QUEUES: ['edits', 'catalog'],
      DASHBOARD_USER: 'admin',
      DASHBOARD_READ_ONLY_QUEUES: [],
    });
    expect(
      parseEnv({ DASHBOARD_TOKEN: 'tok_0123456789abcdef', DASHBOARD_READ_ONLY_QUEUES: '*' }).DASHBOARD_READ_ONLY_QUEUES,
    ).toEqual(['*']);
  });

  it('refuses to run open, and names the variable without showing secrets', () => {
    expect(() => parseEnv({})).toThrow(/DASHBOARD_PASSWORD=null: set DASHBOARD_PASSWORD .* or DASHBOARD_TOKEN/);
    let message = '';
    try {
      parseEnv({ DASHBOARD_PASSWORD: 'short', QUEUES: 'Bad Name' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('DASHBOARD_PASSWORD=(hidden): use at least 8 characters');
    expect(message).toContain('QUEUES="Bad Name"');
    expect(message).not.toContain('short');
  });

  it('exports its schema as a zod object (tests/deploy reads its keys)', () => {
    expect(Object.keys(DashboardEnv.shape)).toContain('DASHBOARD_READ_ONLY_QUEUES');
  });
});
