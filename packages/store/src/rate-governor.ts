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
  /** Time constant of the decaying counts of requests sent and 429s, read as rates (default 1 s). */
  rateTimeConstantMs?: number;
  /**
   * A new 429 episode right after a halving that cut the requests that got through to at most this
   * share of before (default 0.75) means the 429s do not follow the rate: the halving is undone ...
   */
  insensitiveRatio?: number;
  /** ... and 429s leave the rate alone this long (default 30 s). */
  insensitiveHoldMs?: number;
  now?: () => number;
}

/** The governor's state of one account, for stats, metrics and `health`. */
export interface GovernorState {
  /** 1 = the configured rate; lower after 429s that were the rate limit. */
  factor: number;
  /** Where the factor's recovery stops (just under the rate that drew the last 429); relaxes slowly. */
  ceiling: number;
  /** Halvings of the rate (429 episodes that were the rate limit). */
  penalties: number;
  /** Halvings undone because the 429s did not follow the rate. */
  undone: number;
  /** Epoch ms of the last 429 episode (0 = never): the factor has been below 1 since then. */
  penalizedAt: number;
  /** Epoch ms until which 429s leave the rate alone (0 = not held). */
  holdUntil: number;
  /** Epoch ms until which nothing is sent (a Retry-After). */
  blockedUntil: number;
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
    this.#key = governorKey(options.prefix, apiKeyHash(options.apiKey));
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
      rateTimeConstantMs: options.rateTimeConstantMs ?? 1_000,
      insensitiveRatio: options.insensitiveRatio ?? 0.75,
      insensitiveHoldMs: options.insensitiveHoldMs ?? 30_000,
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
        o.rateTimeConstantMs,
      ],
    )) as [number, number, number];
    return granted === 1 ? { granted: true, delayMs: ms } : { granted: false, waitMs: ms };
  }

  /**
   * Runflow answered 429 and it is the account's rate limit (InflightCaps.limited tells a model's cap
   * apart): slow the whole fleet, and stop it until Retry-After when given.
   */
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
        o.rateTimeConstantMs,
        o.insensitiveRatio,
        o.insensitiveHoldMs,
        o.requestsPerSecond,
      ],
    )) as number;
    return factor / 1000;
  }

  /** Current state, for stats, metrics and `health`. */
  async state(): Promise<GovernorState> {
    const [factor, factorAt, penalties, blocked, ceiling, ceilingAt, insensitive, penalizedAt, holdUntil] =
      await this.#redis.hmget(
        this.#key,
        'factor',
        'factor_at',
        'penalties',
        'blocked_until',
        'ceiling',
        'ceiling_at',
        'insensitive',
        'penalized_at',
        'hold_until',
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
      undone: Number(insensitive ?? 0),
      penalizedAt: Number(penalizedAt ?? 0),
      holdUntil: Number(holdUntil ?? 0),
      blockedUntil: Number(blocked ?? 0),
    };
  }
}

/** The hash of a Runflow API key that names its governor and learned caps in Redis (never the key itself). */
export function apiKeyHash(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
}
