import { createHash } from 'node:crypto';
import { holdsKey } from './keys.ts';
import { LuaScript, type RedisClient } from './lua-script.ts';

const updateScript = new LuaScript('holds-update-1');

/** Field of a pause: one queue's submits, or the whole account's (`*`). */
const ACCOUNT = '*';

/** An operator's pause of submits: the whole account's (`queue` undefined) or one queue's. */
export interface PauseHold {
  queue: string | undefined;
  since: number;
  reason: string;
  by: string;
}

/** The fleet-wide breaker of the Runflow account. `openTotalMs` includes the current open period. */
export interface BreakerState {
  open: boolean;
  since: number | undefined;
  reason: string | undefined;
  nextProbeAt: number | undefined;
  /** Failures in a row so far (reset by any answer from Runflow). */
  streak: number;
  /** How long the breaker has been open, summed over every period (ms): poll deadlines move by it. */
  openTotalMs: number;
  opens: number;
  lastClosedAt: number | undefined;
  lastOpenMs: number | undefined;
}

/** Submits held because Runflow answered 402 INSUFFICIENT_CREDIT. */
export interface CreditState {
  held: boolean;
  since: number | undefined;
  reason: string | undefined;
  nextProbeAt: number | undefined;
  holds: number;
  holdTotalMs: number;
  lastLiftedAt: number | undefined;
  lastHoldMs: number | undefined;
}

/** Everything that holds the account's submits (and, for the breaker, its polls), read at once. */
export interface HoldsSnapshot {
  at: number;
  breaker: BreakerState;
  credit: CreditState;
  pauses: PauseHold[];
}

export interface AccountHoldsOptions {
  prefix: string;
  /** Names the account (the rate governor's key: RATE_LIMIT_KEY or the API key); only a hash is stored. */
  accountKey: string;
  now?: () => number;
}

/** Breaker thresholds and probe timing. */
export interface BreakerPolicy {
  /** Opens after this many 5xx / network failures in a row fleet-wide ... */
  failures: number;
  /** ... within this window (ms). */
  windowMs: number;
  /** First probe this long after it opens; each failed probe doubles it ... */
  probeBaseMs: number;
  /** ... up to this. */
  probeMaxMs: number;
}

export const DEFAULT_BREAKER_POLICY: BreakerPolicy = {
  failures: 10,
  windowMs: 10_000,
  probeBaseMs: 5_000,
  probeMaxMs: 30_000,
};

/**
 * The account's holds in Redis, shared by every worker like the rate governor (one hash per account,
 * keyed by a hash of the account key): the breaker (opened by a burst of failures, closed by the first
 * success), the credit hold (a 402 until the balance is back) and operators' pauses. Readers take a
 * snapshot (one HGETALL) and cache it; changes go through one Lua script so that two workers never
 * both open, claim a probe or lift a hold.
 */
export class AccountHolds {
  readonly #redis: RedisClient;
  readonly #key: string;
  readonly #now: () => number;

  constructor(redis: RedisClient, options: AccountHoldsOptions) {
    this.#redis = redis;
    this.#key = holdsKey(options.prefix, accountHash(options.accountKey));
    this.#now = options.now ?? Date.now;
  }

  async snapshot(): Promise<HoldsSnapshot> {
    return parseHolds(await this.#redis.hgetall(this.#key), this.#now());
  }

  /** A 5xx or network failure from Runflow. Resolves true when this one opened the breaker. */
  async recordFailure(reason: string, policy: BreakerPolicy = DEFAULT_BREAKER_POLICY): Promise<boolean> {
    return (await this.#update('failure', reason, policy.failures, policy.windowMs, policy.probeBaseMs)) === 1;
  }

  /** Runflow answered (any status but 5xx): the failure streak resets. Resolves true when it closed the breaker. */
  async recordSuccess(): Promise<boolean> {
    return (await this.#update('success')) === 1;
  }

  /** Takes the probe of a hold when it is due and nobody else has it; the claim lasts `claimMs`. */
  async claimProbe(hold: 'breaker' | 'credit', claimMs: number): Promise<boolean> {
    return (await this.#update('claim', hold, claimMs)) === 1;
  }

  async breakerProbeFailed(policy: BreakerPolicy = DEFAULT_BREAKER_POLICY): Promise<void> {
    await this.#update('probe-failed', '', policy.probeMaxMs);
  }

  /** Runflow answered 402: hold submits until a probe finds credit. True when this one started the hold. */
  async holdCredit(reason: string, probeIntervalMs: number): Promise<boolean> {
    return (await this.#update('credit-hold', reason, probeIntervalMs)) === 1;
  }

  async creditStillSpent(probeIntervalMs: number): Promise<void> {
    await this.#update('credit-probed', '', probeIntervalMs);
  }

  /** Credit is back. True when this one lifted the hold. */
  async liftCredit(): Promise<boolean> {
    return (await this.#update('credit-lift')) === 1;
  }

  /** Pauses the submits of one queue, or of the whole account when `queue` is undefined. Kept until resumed. */
  async pause(queue: string | undefined, reason: string, by: string): Promise<PauseHold> {
    const hold: PauseHold = { queue, since: this.#now(), reason, by };
    await this.#redis.hset(this.#key, pauseField(queue), JSON.stringify({ since: hold.since, reason, by }));
    return hold;
  }

  /** Resumes what `pause(queue)` held. True when there was such a pause. */
  async resume(queue: string | undefined): Promise<boolean> {
    return (await this.#redis.hdel(this.#key, pauseField(queue))) === 1;
  }

  async #update(op: string, ...args: (string | number)[]): Promise<number> {
    return Number(await updateScript.run(this.#redis, [this.#key], [op, this.#now(), ...args]));
  }
}

export function accountHash(accountKey: string): string {
  return createHash('sha256').update(accountKey).digest('hex').slice(0, 16);
}

function pauseField(queue: string | undefined): string {
  return `pause:${queue ?? ACCOUNT}`;
}

const optionalNumber = (value: string | undefined): number | undefined =>
  value === undefined || value === '' ? undefined : Number(value);

/** The hash's fields as a snapshot at `now` (pure; unit-tested). */
export function parseHolds(fields: Record<string, string>, now: number): HoldsSnapshot {
  const open = fields.breaker_state === 'open';
  const since = optionalNumber(fields.breaker_since);
  const closedTotal = Number(fields.breaker_open_total_ms ?? 0);
  const creditSince = optionalNumber(fields.credit_since);
  const pauses: PauseHold[] = [];
  for (const [field, value] of Object.entries(fields)) {
    if (!field.startsWith('pause:')) continue;
    const name = field.slice('pause:'.length);
    const parsed = safeJson(value);
    pauses.push({
      queue: name === ACCOUNT ? undefined : name,
      since: Number(parsed.since ?? 0),
      reason: String(parsed.reason ?? ''),
      by: String(parsed.by ?? ''),
    });
  }
  pauses.sort((a, b) => (a.queue ?? '').localeCompare(b.queue ?? ''));
  return {
    at: now,
    breaker: {
      open,
      since: open ? since : undefined,
      reason: open ? fields.breaker_reason : undefined,
      nextProbeAt: open ? optionalNumber(fields.breaker_probe_at) : undefined,
      streak: Number(fields.streak ?? 0),
      openTotalMs: closedTotal + (open && since !== undefined ? Math.max(0, now - since) : 0),
      opens: Number(fields.breaker_opens ?? 0),
      lastClosedAt: optionalNumber(fields.breaker_closed_at),
      lastOpenMs: optionalNumber(fields.breaker_last_open_ms),
    },
    credit: {
      held: creditSince !== undefined,
      since: creditSince,
      reason: fields.credit_reason,
      nextProbeAt: optionalNumber(fields.credit_probe_at),
      holds: Number(fields.credit_holds ?? 0),
      holdTotalMs:
        Number(fields.credit_hold_total_ms ?? 0) + (creditSince !== undefined ? Math.max(0, now - creditSince) : 0),
      lastLiftedAt: optionalNumber(fields.credit_lifted_at),
      lastHoldMs: optionalNumber(fields.credit_last_hold_ms),
    },
    pauses,
  };
}

function safeJson(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The first hold that stops `queue`'s submits in this snapshot, with its reason; undefined when none. */
export function submitHoldOf(
  snapshot: HoldsSnapshot,
  queue: string,
): { kind: 'breaker' | 'credit' | 'pause'; reason: string } | undefined {
  if (snapshot.breaker.open) return { kind: 'breaker', reason: `Runflow breaker open: ${snapshot.breaker.reason}` };
  if (snapshot.credit.held) return { kind: 'credit', reason: `credit hold: ${snapshot.credit.reason}` };
  const pause = snapshot.pauses.find((p) => p.queue === undefined || p.queue === queue);
  if (pause) {
    const what = pause.queue === undefined ? 'account paused' : `queue ${queue} paused`;
    return { kind: 'pause', reason: `${what} by ${pause.by || 'an operator'}: ${pause.reason}` };
  }
  return undefined;
}
