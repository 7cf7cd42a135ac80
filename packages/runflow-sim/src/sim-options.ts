import { mergePricing, type SimPricing, tablePricing } from './sim-pricing.ts';
// What can be configured, the defaults, and hand-written validation (zod is not a dependency of this
// package). Every knob that can change at runtime is validated by the same functions, whether it
// comes from startSim(), a Sim method, POST /_sim/config or the environment.

/** Probabilities (0..1) of each injected fault; `callbackDelayMs` is the delay a delayed callback gets. */
export interface SimFaults {
  /** POST answers 500/502/503 and creates no run. */
  createServerError: number;
  /** POST answers 429 RATE_LIMITED and creates no run. */
  createRateLimited: number;
  getServerError: number;
  getRateLimited: number;
  /** The run is created (bills, calls back) but the socket is destroyed before any response. */
  resetAfterCreate: number;
  /** The run ends `failed` (PROVIDER_ERROR at stage `running`), unbilled. */
  runFailed: number;
  /** The callback is never attempted. */
  callbackDrop: number;
  /** A second, identically signed copy follows 0–200 ms later. */
  callbackDuplicate: number;
  /** Delivery starts `callbackDelayMs` after the run is terminal. */
  callbackDelay: number;
  callbackDelayMs: number;
  /** A duplicate is sent and the first copy held back so the duplicate lands first. */
  callbackOutOfOrder: number;
}

/** The fault kinds that are probabilities (everything but `callbackDelayMs`). */
export type FaultKind = Exclude<keyof SimFaults, 'callbackDelayMs'>;

export const FAULT_KINDS: readonly FaultKind[] = [
  'createServerError',
  'createRateLimited',
  'getServerError',
  'getRateLimited',
  'resetAfterCreate',
  'runFailed',
  'callbackDrop',
  'callbackDuplicate',
  'callbackDelay',
  'callbackOutOfOrder',
];

export interface LatencyRangeMs {
  min: number;
  max: number;
}

export interface CallbackRetryPolicy {
  /** Total attempts per delivered copy, the first included. */
  attempts: number;
  /** Wait before attempt n+1 is `delaysMs[n-1]`; the last entry repeats. */
  delaysMs: number[];
  /** Per attempt, from socket assignment to the end of the response. */
  timeoutMs: number;
}

export type IdempotencyMode = 'honour' | 'ignore';
export type CancelSpelling = 'canceled' | 'cancelled';
export type OutputShape = 'outputs' | 'image_urls';

export interface SimOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  apiKeys?: string[];
  /** The current callback signer; null sends callbacks without `Runflow-Signature`. */
  signingSecret?: string | null;
  /** Create → terminal, uniform in [min, max]; about 20% of it is spent `queued`. */
  latencyMs?: LatencyRangeMs;
  faults?: Partial<SimFaults>;
  idempotency?: IdempotencyMode;
  /**
   * Whether `GET /v1/runs?q=client_ref:<ref>` filters on client_ref (default true). Runflow documents `q`
   * but not that client_ref is filterable; false answers such a search 422, as a Runflow that cannot would.
   */
  runSearch?: boolean;
  /** Account-wide requests/s over /v1 (token bucket, burst = rate); undefined = unlimited. */
  rateLimitPerSecond?: number;
  /** Version A of the rate-limit docs: 429s carry Retry-After and responses X-RateLimit-*. */
  retryAfter?: boolean;
  cancelSpelling?: CancelSpelling;
  callbackRetry?: CallbackRetryPolicy;
  outputShape?: OutputShape;
  /** Base of output URLs; defaults to the server's own address. */
  publicUrl?: string;
  /**
   * The account's prepaid balance, µUSD (runflow-api.md §7). Each billed run debits it; while it is ≤ 0
   * creates answer 402 INSUFFICIENT_CREDIT. Undefined or null (the default): no limit.
   */
  balanceMicroUsd?: number | null;
  /** How runs are billed (default: our price table exactly); see sim-pricing.ts. */
  pricing?: Partial<SimPricing>;
}

/** SimOptions with every default applied; the runtime-mutable parts are changed through Sim methods. */
export interface SimConfig {
  port: number;
  host: string;
  apiKeys: string[];
  signingSecret: string | null;
  latencyMs: LatencyRangeMs;
  faults: SimFaults;
  idempotency: IdempotencyMode;
  runSearch: boolean;
  rateLimitPerSecond: number | undefined;
  retryAfter: boolean;
  cancelSpelling: CancelSpelling;
  callbackRetry: CallbackRetryPolicy;
  outputShape: OutputShape;
  publicUrl: string | undefined;
  balanceMicroUsd: number | null;
  pricing: SimPricing;
}

export const DEFAULT_CALLBACK_DELAY_MS = 5000;

export function noFaults(): SimFaults {
  return {
    createServerError: 0,
    createRateLimited: 0,
    getServerError: 0,
    getRateLimited: 0,
    resetAfterCreate: 0,
    runFailed: 0,
    callbackDrop: 0,
    callbackDuplicate: 0,
    callbackDelay: 0,
    callbackDelayMs: DEFAULT_CALLBACK_DELAY_MS,
    callbackOutOfOrder: 0,
  };
}

export function resolveOptions(options: SimOptions = {}): SimConfig {
  const apiKeys = options.apiKeys ?? ['sim-key'];
  if (!Array.isArray(apiKeys) || apiKeys.length === 0 || apiKeys.some((key) => typeof key !== 'string' || !key)) {
    throw new RangeError('apiKeys must be a non-empty list of non-empty strings');
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be 0..65535, got ${port}`);
  return {
    port,
    host: options.host ?? '127.0.0.1',
    apiKeys: [...apiKeys],
    signingSecret: checkSigningSecret(options.signingSecret === undefined ? 'whsec_sim' : options.signingSecret),
    latencyMs: checkLatency(options.latencyMs ?? { min: 200, max: 800 }),
    faults: mergeFaults(noFaults(), options.faults ?? {}),
    idempotency: checkIdempotency(options.idempotency ?? 'honour'),
    runSearch: options.runSearch ?? true,
    rateLimitPerSecond: checkRateLimit(options.rateLimitPerSecond),
    retryAfter: options.retryAfter ?? false,
    cancelSpelling: checkOneOf('cancelSpelling', options.cancelSpelling ?? 'canceled', ['canceled', 'cancelled']),
    callbackRetry: checkCallbackRetry(
      options.callbackRetry ?? { attempts: 3, delaysMs: [1000, 2000], timeoutMs: 5000 },
    ),
    outputShape: checkOneOf('outputShape', options.outputShape ?? 'outputs', ['outputs', 'image_urls']),
    publicUrl: options.publicUrl === undefined ? undefined : checkPublicUrl(options.publicUrl),
    balanceMicroUsd: checkBalance(options.balanceMicroUsd),
    pricing: mergePricing(tablePricing(), options.pricing ?? {}),
  };
}

/** `current` with the given faults replaced; unknown keys and out-of-range values throw. */
export function mergeFaults(current: SimFaults, partial: Partial<SimFaults>, label = 'faults'): SimFaults {
  if (typeof partial !== 'object' || partial === null || Array.isArray(partial)) {
    throw new RangeError(`${label} must be an object, got ${JSON.stringify(partial)}`);
  }
  const merged = { ...current };
  for (const [key, value] of Object.entries(partial)) {
    if (value === undefined) continue;
    if (key === 'callbackDelayMs') {
      merged.callbackDelayMs = checkDurationMs(`${label}.callbackDelayMs`, value);
    } else if ((FAULT_KINDS as readonly string[]).includes(key)) {
      if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
        throw new RangeError(`${label}.${key} must be a probability between 0 and 1, got ${JSON.stringify(value)}`);
      }
      merged[key as FaultKind] = value;
    } else {
      throw new RangeError(`${label}.${key} is not a fault; known: ${[...FAULT_KINDS, 'callbackDelayMs'].join(', ')}`);
    }
  }
  return merged;
}

export function checkLatency(latency: LatencyRangeMs, label = 'latencyMs'): LatencyRangeMs {
  if (typeof latency !== 'object' || latency === null) {
    throw new RangeError(`${label} must be {min, max}, got ${JSON.stringify(latency)}`);
  }
  const min = checkDurationMs(`${label}.min`, latency.min);
  const max = checkDurationMs(`${label}.max`, latency.max);
  if (min > max) throw new RangeError(`${label}.min (${min}) must not exceed ${label}.max (${max})`);
  return { min, max };
}

export function checkSigningSecret(secret: unknown): string | null {
  if (secret === null) return null;
  if (typeof secret !== 'string' || secret === '') {
    throw new RangeError('signingSecret must be a non-empty string or null');
  }
  return secret;
}

export function checkIdempotency(mode: unknown): IdempotencyMode {
  return checkOneOf('idempotency', mode, ['honour', 'ignore']);
}

export function checkRateLimit(perSecond: unknown): number | undefined {
  if (perSecond === undefined || perSecond === null) return undefined;
  if (typeof perSecond !== 'number' || !Number.isFinite(perSecond) || perSecond <= 0) {
    throw new RangeError(`rateLimitPerSecond must be a positive number, got ${JSON.stringify(perSecond)}`);
  }
  return perSecond;
}

export function checkBalance(microUsd: unknown, label = 'balanceMicroUsd'): number | null {
  if (microUsd === undefined || microUsd === null) return null;
  if (typeof microUsd !== 'number' || !Number.isSafeInteger(microUsd)) {
    throw new RangeError(`${label} must be an integer number of µUSD or null, got ${JSON.stringify(microUsd)}`);
  }
  return microUsd;
}

function checkCallbackRetry(policy: CallbackRetryPolicy): CallbackRetryPolicy {
  if (!Number.isInteger(policy.attempts) || policy.attempts < 1) {
    throw new RangeError(`callbackRetry.attempts must be an integer ≥ 1, got ${policy.attempts}`);
  }
  if (!Array.isArray(policy.delaysMs)) throw new RangeError('callbackRetry.delaysMs must be an array');
  return {
    attempts: policy.attempts,
    delaysMs: policy.delaysMs.map((delay, i) => checkDurationMs(`callbackRetry.delaysMs[${i}]`, delay)),
    timeoutMs: checkDurationMs('callbackRetry.timeoutMs', policy.timeoutMs),
  };
}

function checkPublicUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new RangeError(`publicUrl must be an absolute http(s) URL, got ${JSON.stringify(url)}`);
  }
  return url.replace(/\/+$/, '');
}

function checkDurationMs(label: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${label} must be a number of milliseconds ≥ 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkOneOf<T extends string>(label: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new RangeError(`${label} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}
