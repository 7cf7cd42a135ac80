import { parseEnv } from '@runflow-queue/worker';
import { describe, expect, it } from 'vitest';

const base = { RUNFLOW_API_KEY: 'rf_live_test' };

describe('worker env: webhooks', () => {
  it('by default delivers no webhooks from this worker and refuses loopback and private targets', () => {
    const env = parseEnv(base);
    expect(env.NOTIFY_SIGNING_SECRET).toBeUndefined();
    expect(env.NOTIFY_ALLOW_HTTP_LOOPBACK).toBe(false);
    expect(env.NOTIFY_ALLOW_PRIVATE_NETWORKS).toBe(false);
  });

  it('takes several signing secrets (rotation) and the two switches', () => {
    const env = parseEnv({
      ...base,
      NOTIFY_SIGNING_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, whsec_bmV3LXNlY3JldC0wMTIzNDU2Nzg5',
      NOTIFY_ALLOW_HTTP_LOOPBACK: 'true',
      NOTIFY_ALLOW_PRIVATE_NETWORKS: '1',
    });
    expect(env.NOTIFY_SIGNING_SECRET).toEqual([
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'whsec_bmV3LXNlY3JldC0wMTIzNDU2Nzg5',
    ]);
    expect(env.NOTIFY_ALLOW_HTTP_LOOPBACK).toBe(true);
    expect(env.NOTIFY_ALLOW_PRIVATE_NETWORKS).toBe(true);
  });

  it('names a bad variable', () => {
    expect(() => parseEnv({ ...base, NOTIFY_SIGNING_SECRET: 'short' })).toThrow(
      /NOTIFY_SIGNING_SECRET.*16\+ characters/,
    );
    expect(() => parseEnv({ ...base, NOTIFY_ALLOW_HTTP_LOOPBACK: 'yes' })).toThrow(/NOTIFY_ALLOW_HTTP_LOOPBACK="yes"/);
  });
});
