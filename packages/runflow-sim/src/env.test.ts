import { describe, expect, it } from 'vitest';
import { DEFAULT_SIM_PORT, parseSimEnv } from './env.ts';

describe('parseSimEnv', () => {
  it('defaults to port 4010 and leaves the rest to startSim', () => {
    expect(parseSimEnv({})).toEqual({ port: DEFAULT_SIM_PORT });
  });

  it('reads every variable', () => {
    expect(
      parseSimEnv({
        SIM_PORT: '5000',
        SIM_HOST: '0.0.0.0',
        SIM_API_KEY: 'k1,k2',
        SIM_SIGNING_SECRET: '',
        SIM_LATENCY_MS: '10-50',
        SIM_FAULTS: '{"createServerError":0.05,"callbackDelayMs":100}',
        SIM_RATE_LIMIT_PER_SECOND: '20',
        SIM_PUBLIC_URL: 'http://sim:4010',
      }),
    ).toEqual({
      port: 5000,
      host: '0.0.0.0',
      apiKeys: ['k1', 'k2'],
      signingSecret: null,
      latencyMs: { min: 10, max: 50 },
      faults: { createServerError: 0.05, callbackDelayMs: 100 },
      rateLimitPerSecond: 20,
      publicUrl: 'http://sim:4010',
    });
  });

  it.each([
    ['SIM_PORT', 'abc'],
    ['SIM_PORT', '70000'],
    ['SIM_LATENCY_MS', '800-200'],
    ['SIM_LATENCY_MS', 'fast'],
    ['SIM_FAULTS', '{not json'],
    ['SIM_FAULTS', '{"createServerError":2}'],
    ['SIM_FAULTS', '{"unknownFault":0.1}'],
    ['SIM_RATE_LIMIT_PER_SECOND', '-1'],
    ['SIM_API_KEY', 'a, ,b'],
  ])('rejects %s=%s naming the variable and the value', (variable, value) => {
    expect(() => parseSimEnv({ [variable]: value })).toThrow(new RegExp(`^${variable}=.*${escapeRegExp(value)}`));
  });
});

function escapeRegExp(text: string): string {
  return JSON.stringify(text)
    .slice(1, -1)
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
