import { createHash } from 'node:crypto';
import { governorKey } from './keys.ts';
import { LuaScript, type RedisClient } from './lua-script.ts';

const acquireScript = new LuaScript('governor-acquire-1');
const penalizeScript = new LuaScript('governor-penalize-1');

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
  /**
   * 429s within this window of the first count as one episode (default 1.5 s: the longest reservation,
   * 1 s, plus a request's round trip): requests reserved or in flight at the old rate keep drawing
   * 429s for that long, and must not lower the rate again. Later 429s mean the lower rate is still too
   * high: a new episode.
   */
  penaltyGuardMs?: number;
  /** After a 429, recovery stops at this fraction of the rate that drew it (default 0.9) ... */
  ceilingMargin?: number;
  /** ... and that ceiling relaxes by this fraction of the configured rate per minute (default 0.02). */
  ceilingRelaxPerMinute?: number;
  now?: () => number;
}

/** Granted: send after `delayMs` (the slot is reserved). Refused: ask again after `waitMs`. */
export type GovernorDecision = { granted: true; delayMs: number } | { granted: false; waitMs: number };

/**
 * One governor per Runflow API key, shared by every queue and replica: GCRA in Redis (one Lua call
 * per request), weighted shares between queues, AIMD on 429 with memory: recovery stops just under
 * the rate that drew the last 429 (a ceiling that relaxes slowly), so a fleet configured above the
 * account's real limit converges under it instead of probing into 429s forever.
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
      penaltyGuardMs: options.penaltyGuardMs ?? 1_500,
      ceilingMargin: options.ceilingMargin ?? 0.9,
      ceilingRelaxPerMinute: options.ceilingRelaxPerMinute ?? 0.02,
      now: options.now ?? Date.now,
    };
  }

  /**
   * Asks for one Runflow request on behalf of `queue` (weighted by `share`). A slot up to
   * `maxDelayMs` ahead is reserved (the caller waits `delayMs`, then sends); further out, refused.
   */
  async acquire(queue: string, share = 1, maxDelayMs = 0): Promise<GovernorDecision> {
    const o = this.#options;
    const [granted, ms] = (await acquireScript.run(
      this.#redis,
      [this.#key],
      [
        o.now(),
        o.requestsPerSecond,
        o.burst,
        queue,
        share,
        o.activeWindowMs,
        o.recoveryPerSecond,
        o.ceilingRelaxPerMinute,
        maxDelayMs,
      ],
    )) as [number, number, number];
    return granted === 1 ? { granted: true, delayMs: ms } : { granted: false, waitMs: ms };
  }

  /** Runflow answered 429: slow the whole fleet, and stop it until Retry-After when given. */
  async penalize(retryAfterMs: number | undefined): Promise<number> {
    const o = this.#options;
    const factor = (await penalizeScript.run(
      this.#redis,
      [this.#key],
      [
        o.now(),
        retryAfterMs ?? 0,
        o.decreaseFactor,
        o.minFactor,
        o.penaltyGuardMs,
        o.recoveryPerSecond,
        o.ceilingRelaxPerMinute,
        o.ceilingMargin,
      ],
    )) as number;
    return factor / 1000;
  }

  /** Current state, for stats: the rate factor (1 = full rate) and how many slow-downs happened. */
  async state(): Promise<{ factor: number; ceiling: number; penalties: number; blockedUntil: number }> {
    const [factor, factorAt, penalties, blocked, ceiling, ceilingAt] = await this.#redis.hmget(
      this.#key,
      'factor',
      'factor_at',
      'penalties',
      'blocked_until',
      'ceiling',
      'ceiling_at',
    );
    const o = this.#options;
    const now = o.now();
    const relaxed = Math.min(
      1,
      Number(ceiling ?? 1) + (o.ceilingRelaxPerMinute * (now - Number(ceilingAt ?? now))) / 60_000,
    );
    const raw = Number(factor ?? 1);
    const recovered = Math.min(relaxed, raw + (o.recoveryPerSecond * (now - Number(factorAt ?? now))) / 1000);
    return {
      factor: raw < 1 ? recovered : 1,
      ceiling: raw < 1 ? relaxed : 1,
      penalties: Number(penalties ?? 0),
      blockedUntil: Number(blocked ?? 0),
    };
  }
}
