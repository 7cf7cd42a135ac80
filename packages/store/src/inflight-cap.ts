import { acceptedRunsKey, inflightKey, learnedCapsKey } from './keys.ts';
import { LuaScript, type RedisClient } from './lua-script.ts';
import { apiKeyHash } from './rate-governor.ts';

const acquireScript = new LuaScript('inflight-acquire-2');
const limitedScript = new LuaScript('inflight-limited-3');
const createdScript = new LuaScript('inflight-created-2');

export interface InflightCapsOptions {
  prefix: string;
  /** A slot older than this is taken back (its job vanished); default 2 h. */
  staleMs?: number;
  /**
   * The Runflow API key whose 429s teach the caps (only its hash reaches Redis), the same as the
   * governor's. Unset: only configured caps apply and nothing is learned.
   */
  apiKey?: string;
  /** 429s on another model (or a GET) within this window make a 429 the rate limit (default 2 s). */
  evidenceMs?: number;
  /**
   * A 429 that picks one model — other requests (another model's creates, GETs) answered within this
   * window and none of them met a 429 in it — is that model's cap (default 5 s).
   */
  answerWindowMs?: number;
  /** How long the most runs in flight a create succeeded with counts as evidence (default 10 s). */
  successWindowMs?: number;
  /** A learned cap that binds is probed one higher after this (default 5 s) ... */
  probeMs?: number;
  /** ... doubling after each probe that draws a 429, up to this (default 5 min). */
  maxProbeMs?: number;
  /** A learned cap not confirmed by a 429 (or probed) for this long is forgotten (default 10 min). */
  learnedTtlMs?: number;
}

/** What a create's 429 was: a model's concurrency cap (leave the rate alone) or the account's rate limit. */
export interface LimitedVerdict {
  kind: 'cap' | 'rate';
  /** Runs of the model in flight besides the one refused. */
  others: number;
  /** The model's learned cap after this 429 (undefined: none). */
  learnedCap: number | undefined;
}

/** One model's learned cap, for stats, metrics and `health`. */
export interface LearnedCap {
  model: string;
  /** Runs in flight at once that Runflow accepts, as learned. */
  cap: number;
  /** Epoch ms the cap was first learned (it has applied since). */
  since: number;
  /** Epoch ms it was last set, confirmed by a 429 or probed. */
  updatedAt: number;
  /** 429s the cap explained (none of them slowed the fleet). */
  rejects: number;
}

/**
 * Runs in flight on Runflow per model, across queues and replicas, each under a cap: the configured
 * one (`models.<id>.maxInFlight`) or the one learned from 429s that follow the runs in flight (a
 * per-model concurrency cap on Runflow's side, runflow-api.md §6), whichever is lower. Every submit
 * holds a slot from admission to the job's end, capped or not, so a 429 can be read against the count.
 */
export class InflightCaps {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #capsKey: string;
  readonly #learning: boolean;
  readonly #o: Required<Omit<InflightCapsOptions, 'prefix' | 'apiKey'>>;
  #answeredWrittenAt = 0;

  constructor(redis: RedisClient, options: InflightCapsOptions) {
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.#learning = options.apiKey !== undefined;
    this.#capsKey = learnedCapsKey(options.prefix, options.apiKey === undefined ? 'none' : apiKeyHash(options.apiKey));
    this.#o = {
      staleMs: options.staleMs ?? 2 * 3600_000,
      evidenceMs: options.evidenceMs ?? 2_000,
      answerWindowMs: options.answerWindowMs ?? 5_000,
      successWindowMs: options.successWindowMs ?? 10_000,
      probeMs: options.probeMs ?? 5_000,
      maxProbeMs: options.maxProbeMs ?? 5 * 60_000,
      learnedTtlMs: options.learnedTtlMs ?? 10 * 60_000,
    };
  }

  /** A slot for `member` under the lower of `cap` (configured; undefined = none) and the learned cap. */
  async acquire(model: string, member: string, cap: number | undefined, now = Date.now()): Promise<boolean> {
    const [held] = (await acquireScript.run(
      this.#redis,
      [inflightKey(this.#prefix, model), this.#capsKey],
      [member, cap ?? 0, now, this.#o.staleMs, this.#learning ? model : '', this.#o.probeMs, this.#o.learnedTtlMs],
    )) as [number, number, number];
    return held === 1;
  }

  async release(model: string, member: string): Promise<void> {
    await Promise.all([
      this.#redis.hdel(inflightKey(this.#prefix, model), member),
      this.#learning ? this.#redis.hdel(acceptedRunsKey(this.#prefix, model), member) : undefined,
    ]);
  }

  async count(model: string): Promise<number> {
    return this.#redis.hlen(inflightKey(this.#prefix, model));
  }

  /** A create of `model` by `member` was accepted: a record for telling later 429s apart. */
  async created(model: string, member: string, now = Date.now()): Promise<void> {
    if (!this.#learning) return;
    await createdScript.run(
      this.#redis,
      [acceptedRunsKey(this.#prefix, model), this.#capsKey],
      [member, model, now, this.#o.successWindowMs, this.#o.probeMs],
    );
  }

  /**
   * Runflow answered a GET (not with 429): evidence that its rate limit lets requests through, for
   * telling a 429 that picks one model. Written at most once per half second per process, not awaited.
   */
  answered(now = Date.now()): void {
    if (!this.#learning || now - this.#answeredWrittenAt < 500) return;
    this.#answeredWrittenAt = now;
    this.#redis.hset(this.#capsKey, 'answered_at:*', now).catch(() => {
      // Evidence only: a lost write makes the next 429 read by the count of runs in flight alone.
    });
  }

  /**
   * A create of `model` by `member` (or, with model undefined, a GET) was answered 429: a cap or the
   * rate limit? The member's slot is given back (no run was made). Without an API key: the rate limit.
   */
  async limited(model: string | undefined, member: string, now = Date.now()): Promise<LimitedVerdict> {
    if (!this.#learning) {
      if (model !== undefined) await this.release(model, member);
      return { kind: 'rate', others: 0, learnedCap: undefined };
    }
    const [cap, others, learned] = (await limitedScript.run(
      this.#redis,
      [inflightKey(this.#prefix, model ?? '*'), this.#capsKey, acceptedRunsKey(this.#prefix, model ?? '*')],
      [
        member,
        model ?? '*',
        now,
        this.#o.evidenceMs,
        this.#o.successWindowMs,
        this.#o.probeMs,
        this.#o.maxProbeMs,
        this.#o.answerWindowMs,
      ],
    )) as [number, number, number];
    return { kind: cap === 1 ? 'cap' : 'rate', others, learnedCap: learned > 0 ? learned : undefined };
  }

  /** The caps learned for this account, one per model (empty without an API key). */
  async learned(now = Date.now()): Promise<LearnedCap[]> {
    if (!this.#learning) return [];
    const flat = await this.#redis.hgetall(this.#capsKey);
    const caps: LearnedCap[] = [];
    for (const [field, value] of Object.entries(flat)) {
      if (!field.startsWith('cap:')) continue;
      const model = field.slice('cap:'.length);
      const updatedAt = Number(flat[`cap_at:${model}`] ?? 0);
      if (now - updatedAt > this.#o.learnedTtlMs) continue;
      caps.push({
        model,
        cap: Number(value),
        since: Number(flat[`since:${model}`] ?? updatedAt),
        updatedAt,
        rejects: Number(flat[`rejects:${model}`] ?? 0),
      });
    }
    return caps.sort((a, b) => a.model.localeCompare(b.model));
  }
}
