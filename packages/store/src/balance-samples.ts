import { spendKeys } from './keys.ts';
import type { RedisClient } from './lua-script.ts';

// Readings of Runflow's prepaid balance (`GET /v1/billing/balance`, whole cents), each next to the
// ledger's total at the same moment, so `spend reconcile --since` can compare the balance's change
// over a window with what the ledger booked in it. One small member per reading, kept 8 days.

export interface BalanceSample {
  atMs: number;
  balanceCents: number;
  /** The ledger's total spend (all queues) when the balance was read, µUSD. */
  ledgerMicroUsd: number;
}

const RETENTION_MS = 8 * 24 * 3600_000;

export class BalanceSamples {
  readonly #redis: RedisClient;
  readonly #key: string;

  constructor(redis: RedisClient, options: { prefix: string }) {
    this.#redis = redis;
    this.#key = spendKeys(options.prefix).balance;
  }

  async record(sample: BalanceSample): Promise<void> {
    await this.#redis.zadd(this.#key, sample.atMs, `${sample.atMs}|${sample.balanceCents}|${sample.ledgerMicroUsd}`);
    await this.#redis.zremrangebyscore(this.#key, '-inf', sample.atMs - RETENTION_MS);
  }

  /** The last reading at or before `atMs`, else the first after it; undefined when there is none. */
  async at(atMs: number): Promise<BalanceSample | undefined> {
    const before = await this.#redis.zrevrangebyscore(this.#key, atMs, '-inf', 'LIMIT', 0, 1);
    const member = before[0] ?? (await this.#redis.zrangebyscore(this.#key, atMs, '+inf', 'LIMIT', 0, 1))[0];
    return member === undefined ? undefined : parse(member);
  }

  async latest(): Promise<BalanceSample | undefined> {
    const [member] = await this.#redis.zrevrange(this.#key, 0, 0);
    return member === undefined ? undefined : parse(member);
  }
}

function parse(member: string): BalanceSample {
  const [atMs, balanceCents, ledgerMicroUsd] = member.split('|').map(Number);
  return { atMs, balanceCents, ledgerMicroUsd };
}
