import { createHash } from 'node:crypto';
import { governorKey } from './keys.ts';
import { LuaScript, type RedisClient } from './lua-script.ts';

const acquireScript = new LuaScript('governor-acquire');
const penalizeScript = new LuaScript('governor-penalize');

export interface GovernorOptions {
  prefix: string;
  /** The Runflow API key this governor protects; only a hash of it reaches Redis. */
  apiKey: string;
  requestsPerSecond: number;
  burst: number;
  /** A queue counts for the shares while it asked within this window (default 2 s). */
  activeWindowMs?: number;
  /** After a 429 the rate is multiplied by this (default 0.5) ... */
  decreaseFactor?: number;
  /** ... never below this fraction of the configured rate (default 0.05) ... */
  minFactor?: number;
  /** ... and recovers by this fraction of the configured rate per second (default 0.05). */
  recoveryPerSecond?: number;
  /** 429s within this window count as one slow-down (default 1 s). */
  penaltyGuardMs?: number;
  now?: () => number;
}

export type GovernorDecision = { granted: true } | { granted: false; waitMs: number };

/**
 * One governor per Runflow API key, shared by every queue and replica: GCRA in Redis (one Lua call
 * per request), weighted shares between queues, AIMD on 429.
 */
export class RateGovernor {
  readonly #redis: RedisClient;
  readonly #key: string;
  readonly #options: Required<Omit<GovernorOptions, 'prefix' | 'apiKey'>>;

  constructor(redis: RedisClient, options: GovernorOptions) {
    this.#redis = redis;
    const keyHash = createHash('sha256').update(options.apiKey).digest('hex').slice(0, 16);
    this.#key = governorKey(options.prefix, keyHash);
    this.#options = {
      requestsPerSecond: options.requestsPerSecond,
      burst: options.burst,
      activeWindowMs: options.activeWindowMs ?? 2_000,
      decreaseFactor: options.decreaseFactor ?? 0.5,
      minFactor: options.minFactor ?? 0.05,
      recoveryPerSecond: options.recoveryPerSecond ?? 0.05,
      penaltyGuardMs: options.penaltyGuardMs ?? 1_000,
      now: options.now ?? Date.now,
    };
  }

  /** Asks for one Runflow request on behalf of `queue` (weighted by `share`). */
  async acquire(queue: string, share = 1): Promise<GovernorDecision> {
    const o = this.#options;
    const [granted, waitMs] = (await acquireScript.run(
      this.#redis,
      [this.#key],
      [o.now(), o.requestsPerSecond, o.burst, queue, share, o.activeWindowMs, o.recoveryPerSecond],
    )) as [number, number, number];
    return granted === 1 ? { granted: true } : { granted: false, waitMs };
  }

  /** Runflow answered 429: slow the whole fleet, and stop it until Retry-After when given. */
  async penalize(retryAfterMs: number | undefined): Promise<number> {
    const o = this.#options;
    const factor = (await penalizeScript.run(
      this.#redis,
      [this.#key],
      [o.now(), retryAfterMs ?? 0, o.decreaseFactor, o.minFactor, o.penaltyGuardMs, o.recoveryPerSecond],
    )) as number;
    return factor / 1000;
  }

  /** Current state, for stats: the rate factor (1 = full rate) and how many slow-downs happened. */
  async state(): Promise<{ factor: number; penalties: number; blockedUntil: number }> {
    const [factor, factorAt, penalties, blocked] = await this.#redis.hmget(
      this.#key,
      'factor',
      'factor_at',
      'penalties',
      'blocked_until',
    );
    const raw = Number(factor ?? 1);
    const since = Number(factorAt ?? this.#options.now());
    const recovered = Math.min(1, raw + (this.#options.recoveryPerSecond * (this.#options.now() - since)) / 1000);
    return { factor: raw < 1 ? recovered : 1, penalties: Number(penalties ?? 0), blockedUntil: Number(blocked ?? 0) };
  }
}
