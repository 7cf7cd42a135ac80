import { formatTable } from '@runflow-queue/shared';
import {
  AccountHolds,
  type HoldsSnapshot,
  type LearnedCap,
  type RedisClient,
  readGovernorState,
} from '@runflow-queue/store';

// The account's state as an operator asks for it (`runflow-queue health`, GET /v1/admin/health, the
// dashboard's banner): the breaker, the credit hold, the pauses, the rate governor — and Redis itself
// — each with its reason and since when. One reader, three places that show it.

export type { LearnedCap };

export interface AccountHealth {
  at: number;
  holds: HoldsSnapshot;
  governor: { factor: number; ceiling: number; penalties: number; blockedUntil: number };
  /** The per-model in-flight ceilings the governor learned from 429s that followed the runs in flight. */
  learnedCaps: LearnedCap[];
  redis: { pingMs: number; usedMemoryBytes: number; maxMemoryBytes: number; policy: string; writable: boolean };
}

export interface AccountHealthOptions {
  prefix: string;
  /** The workers' RATE_LIMIT_KEY, else their RUNFLOW_API_KEY: names the account (only its hash is used). */
  accountKey: string;
  now?: () => number;
}

function infoField(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

export async function readAccountHealth(redis: RedisClient, options: AccountHealthOptions): Promise<AccountHealth> {
  const now = options.now ?? Date.now;
  const holds = new AccountHolds(redis, { prefix: options.prefix, accountKey: options.accountKey, now });
  const pingStarted = performance.now();
  await redis.ping();
  const pingMs = Math.round((performance.now() - pingStarted) * 10) / 10;
  // The governor's state needs none of its rate settings: any values read the same hash.
  const [snapshot, governor, info] = await Promise.all([
    holds.snapshot(),
    readGovernorState(redis, { prefix: options.prefix, apiKey: options.accountKey, now: now() }),
    redis.info('memory'),
  ]);
  const { learnedCaps, ...state } = governor;
  const usedMemoryBytes = Number(infoField(info, 'used_memory') ?? 0);
  const maxMemoryBytes = Number(infoField(info, 'maxmemory') ?? 0);
  const policy = infoField(info, 'maxmemory_policy') ?? 'unknown';
  return {
    at: now(),
    holds: snapshot,
    governor: state,
    learnedCaps,
    redis: {
      pingMs,
      usedMemoryBytes,
      maxMemoryBytes,
      policy,
      writable: !(maxMemoryBytes > 0 && usedMemoryBytes >= maxMemoryBytes && policy === 'noeviction'),
    },
  };
}

export interface HealthRow {
  part: string;
  state: string;
  reason: string;
  since: number | undefined;
}

const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString());
const duration = (ms: number) =>
  ms < 60_000
    ? `${Math.round(ms / 1000)} s`
    : ms < 3_600_000
      ? `${(ms / 60_000).toFixed(1)} min`
      : `${(ms / 3_600_000).toFixed(1)} h`;

/** One row per part: what is on hold (and why, since when) and what is fine. */
export function healthRows(health: AccountHealth): HealthRow[] {
  const { breaker, credit, pauses } = health.holds;
  const rows: HealthRow[] = [];
  rows.push(
    breaker.open
      ? {
          part: 'breaker',
          state: 'OPEN: submits and polls held',
          reason: `${breaker.reason ?? ''}; next probe ${iso(breaker.nextProbeAt)}`,
          since: breaker.since,
        }
      : {
          part: 'breaker',
          state: 'closed',
          reason: breaker.lastClosedAt
            ? `last open ${duration(breaker.lastOpenMs ?? 0)}, closed ${iso(breaker.lastClosedAt)} (${breaker.opens} opens)`
            : 'never opened',
          since: undefined,
        },
  );
  rows.push(
    credit.held
      ? {
          part: 'credit',
          state: 'HELD: no new submits',
          reason: `${credit.reason ?? ''}; next balance probe ${iso(credit.nextProbeAt)}`,
          since: credit.since,
        }
      : {
          part: 'credit',
          state: 'ok',
          reason: credit.lastLiftedAt
            ? `last hold ${duration(credit.lastHoldMs ?? 0)}, lifted ${iso(credit.lastLiftedAt)}`
            : 'never held',
          since: undefined,
        },
  );
  if (pauses.length === 0) rows.push({ part: 'pause', state: 'none', reason: '', since: undefined });
  for (const pause of pauses) {
    rows.push({
      part: pause.queue === undefined ? 'pause (account)' : `pause (queue ${pause.queue})`,
      state: 'PAUSED: no new submits',
      reason: `${pause.reason || 'no reason given'} (by ${pause.by || 'unknown'})`,
      since: pause.since,
    });
  }
  const g = health.governor;
  rows.push({
    part: 'rate governor',
    state: `factor ${g.factor.toFixed(2)}`,
    reason: `${g.penalties} 429 episodes; recovery ceiling ${g.ceiling.toFixed(2)}${g.blockedUntil > health.at ? `; stopped until ${iso(g.blockedUntil)} (Retry-After)` : ''}`,
    since: undefined,
  });
  rows.push({
    part: 'learned caps',
    state:
      health.learnedCaps.length === 0
        ? 'none'
        : health.learnedCaps.map((c) => `${c.model} ≤ ${c.cap} in flight`).join(', '),
    reason:
      health.learnedCaps.length === 0
        ? 'no per-model in-flight ceiling learned'
        : `learned from 429s that followed the runs in flight (${health.learnedCaps.reduce((n, c) => n + c.rejects, 0)} of them); probed one higher while it binds`,
    since: health.learnedCaps.length === 0 ? undefined : Math.min(...health.learnedCaps.map((c) => c.since)),
  });
  const r = health.redis;
  const memory =
    r.maxMemoryBytes > 0
      ? `${(r.usedMemoryBytes / 2 ** 20).toFixed(1)} of ${(r.maxMemoryBytes / 2 ** 20).toFixed(1)} MiB (${r.policy})`
      : `${(r.usedMemoryBytes / 2 ** 20).toFixed(1)} MiB, no maxmemory`;
  rows.push({
    part: 'redis',
    state: r.writable ? `ok (ping ${r.pingMs} ms)` : 'REFUSING WRITES (maxmemory, noeviction)',
    reason: memory,
    since: undefined,
  });
  return rows;
}

/** True when anything holds submits. */
export function anyHold(health: AccountHealth): boolean {
  return (
    health.holds.breaker.open || health.holds.credit.held || health.holds.pauses.length > 0 || !health.redis.writable
  );
}

export function renderHealth(health: AccountHealth): string {
  return formatTable(
    ['part', 'state', 'reason', 'since'],
    healthRows(health).map((row) => [row.part, row.state, row.reason, iso(row.since)]),
    ['left', 'left', 'left', 'left'],
  );
}
