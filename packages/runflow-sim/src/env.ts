import { mergeFaults, noFaults, type SimOptions } from './sim-options.ts';
import { mergePricing, tablePricing } from './sim-pricing.ts';

// Configuration of the standalone simulator (src/main.ts) from the environment. zod is not a
// dependency of this package, so each variable is checked by hand; a bad value throws an error
// that names the variable and the value.

export type SimEnv = Record<string, string | undefined>;

export const DEFAULT_SIM_PORT = 4010;

export class SimEnvError extends Error {
  constructor(variable: string, value: string, expected: string) {
    super(`${variable}=${JSON.stringify(value)} is invalid: ${expected}`);
    this.name = 'SimEnvError';
  }
}

export function parseSimEnv(env: SimEnv): SimOptions {
  const options: SimOptions = { port: DEFAULT_SIM_PORT };

  const port = present(env.SIM_PORT);
  if (port !== undefined) {
    const value = Number(port);
    if (!/^\d+$/.test(port) || value > 65535) throw new SimEnvError('SIM_PORT', port, 'expected a port 0..65535');
    options.port = value;
  }

  const host = present(env.SIM_HOST);
  if (host !== undefined) options.host = host;

  const apiKey = present(env.SIM_API_KEY);
  if (apiKey !== undefined) {
    // Several keys, comma-separated, to rehearse a key rotation.
    const keys = apiKey.split(',').map((key) => key.trim());
    if (keys.some((key) => key === '' || /\s/.test(key))) {
      throw new SimEnvError('SIM_API_KEY', apiKey, 'expected one key or comma-separated keys without spaces');
    }
    options.apiKeys = keys;
  }

  // Set but empty means "no signing secret": callbacks then carry no Runflow-Signature.
  if (env.SIM_SIGNING_SECRET !== undefined) options.signingSecret = env.SIM_SIGNING_SECRET || null;

  const latency = present(env.SIM_LATENCY_MS);
  if (latency !== undefined) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(latency);
    const min = match ? Number(match[1]) : Number.NaN;
    const max = match?.[2] === undefined ? min : Number(match[2]);
    if (!match || min > max) {
      throw new SimEnvError('SIM_LATENCY_MS', latency, 'expected "min-max" in ms with min ≤ max, e.g. 200-800');
    }
    options.latencyMs = { min, max };
  }

  const faults = present(env.SIM_FAULTS);
  if (faults !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(faults);
    } catch {
      throw new SimEnvError('SIM_FAULTS', faults, 'expected a JSON object, e.g. {"createServerError":0.05}');
    }
    try {
      mergeFaults(noFaults(), parsed as Record<string, number>, 'SIM_FAULTS');
    } catch (error) {
      throw new SimEnvError('SIM_FAULTS', faults, (error as Error).message);
    }
    options.faults = parsed as Record<string, number>;
  }

  const rate = present(env.SIM_RATE_LIMIT_PER_SECOND);
  if (rate !== undefined) {
    const value = Number(rate);
    if (!Number.isFinite(value) || value <= 0) {
      throw new SimEnvError('SIM_RATE_LIMIT_PER_SECOND', rate, 'expected a positive number of requests per second');
    }
    options.rateLimitPerSecond = value;
  }

  const publicUrl = present(env.SIM_PUBLIC_URL);
  if (publicUrl !== undefined) {
    if (!URL.canParse(publicUrl) || !/^https?:$/.test(new URL(publicUrl).protocol)) {
      throw new SimEnvError('SIM_PUBLIC_URL', publicUrl, 'expected an absolute http(s) URL');
    }
    options.publicUrl = publicUrl;
  }

  const balance = present(env.SIM_BALANCE_USD);
  if (balance !== undefined) {
    if (!/^-?\d+(\.\d{1,6})?$/.test(balance)) {
      throw new SimEnvError(
        'SIM_BALANCE_USD',
        balance,
        'expected an amount in USD with at most 6 decimals, e.g. 10.00',
      );
    }
    const [whole, fraction = ''] = balance.replace('-', '').split('.');
    const micro = Number(whole) * 1_000_000 + Number(fraction.padEnd(6, '0'));
    options.balanceMicroUsd = balance.startsWith('-') ? -micro : micro;
  }

  const pricing = present(env.SIM_PRICING);
  if (pricing !== undefined) {
    try {
      options.pricing = mergePricing(tablePricing(), JSON.parse(pricing), 'SIM_PRICING');
    } catch (error) {
      throw new SimEnvError(
        'SIM_PRICING',
        pricing,
        `expected JSON like {"surcharges":"none","tierPriceMicroUsd":{"google/nano-banana-2/edit":{"2K":120000}}}: ${(error as Error).message}`,
      );
    }
  }

  return options;
}

function present(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
