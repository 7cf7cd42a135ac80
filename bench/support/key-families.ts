import type { RedisClient } from '@runflow-queue/store';

// What a stack's keys weigh, by family: SCAN every key of the prefix (which also lets Redis drop the
// expired ones it meets), MEMORY USAGE each, and sort them into the families docs/production.md sizes.
// `perJob` families grow with the number of jobs; the others are per queue and bounded.

export interface FamilyUsage {
  family: string;
  perJob: boolean;
  keys: number;
  bytes: number;
  /** The longest time to live of its keys (seconds), or undefined when none has one. */
  maxTtlSeconds?: number;
}

const QUEUE_FAMILIES: { family: string; pattern: RegExp; perJob: boolean }[] = [
  { family: 'callback inbox', pattern: /:inbox:/, perJob: true },
  { family: 'clientRef → run', pattern: /:ref:/, perJob: true },
  { family: 'spend record = settle-once marker', pattern: /:\{spend\}:runs:/, perJob: true },
  { family: 'settle-once marker (before)', pattern: /:settled:/, perJob: true },
  { family: 'unconfirmed spend list', pattern: /:\{spend\}:unconfirmed$/, perJob: true },
  { family: 'run index (run-queue)', pattern: /:run-queue:/, perJob: true },
  { family: 'run index, per queue (before)', pattern: /\}:run:/, perJob: true },
  { family: 'spend ledger + counters', pattern: /\}:(ledger|callbacks|reservations|budget:)/, perJob: false },
  { family: 'spend ledger ({spend})', pattern: /:\{spend\}:/, perJob: false },
  { family: 'governor, in-flight, queue set', pattern: /:\{(governor|inflight)\}|:queues$/, perJob: false },
];

const BULL_SETS: Record<string, { family: string; perJob: boolean }> = {
  completed: { family: 'completed / failed sets', perJob: true },
  failed: { family: 'completed / failed sets', perJob: true },
  delayed: { family: 'delayed set (parked)', perJob: true },
  events: { family: 'BullMQ events stream (capped)', perJob: false },
};

/** The family of one key, given the queue names of the stack. */
export function familyOf(key: string, queues: readonly string[]): { family: string; perJob: boolean } {
  for (const f of QUEUE_FAMILIES) if (f.pattern.test(key)) return f;
  for (const queue of queues) {
    const marker = `}:${queue}:`;
    const at = key.indexOf(marker);
    if (at < 0) continue;
    const rest = key.slice(at + marker.length);
    if (BULL_SETS[rest]) return BULL_SETS[rest];
    if (rest.startsWith('metrics')) return { family: 'BullMQ metrics (capped)', perJob: false };
    if (
      /^[^:]+$/.test(rest) &&
      ![
        'meta',
        'id',
        'wait',
        'active',
        'prioritized',
        'marker',
        'pc',
        'stalled',
        'limiter',
        'stalled-check',
        'paused',
      ].includes(rest)
    ) {
      return { family: 'finished / parked job hash', perJob: true };
    }
    if (/:(lock|logs)$/.test(rest)) return { family: 'job lock / logs', perJob: true };
    return { family: 'BullMQ queue keys', perJob: false };
  }
  return { family: 'other', perJob: false };
}

/** Every key under `prefix`, weighed and grouped; `skip` leaves some keys out (e.g. a probe's jobs). */
export async function keyFamilies(
  redis: RedisClient,
  prefix: string,
  queues: readonly string[],
  skip: (key: string) => boolean = () => false,
): Promise<FamilyUsage[]> {
  const byFamily = new Map<string, FamilyUsage>();
  let cursor = '0';
  do {
    const [next, keys] = await (redis as import('ioredis').Redis).scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      if (skip(key)) continue;
      const bytes = Number((await redis.memory('USAGE', key, 'SAMPLES', '0')) ?? 0);
      if (bytes === 0) continue; // expired between SCAN and MEMORY USAGE
      const { family, perJob } = familyOf(key, queues);
      const usage = byFamily.get(family) ?? { family, perJob, keys: 0, bytes: 0 };
      usage.keys += 1;
      usage.bytes += bytes;
      // The longest TTL of the family: its freshest key, i.e. the retention it was written with.
      const ttl = await redis.ttl(key);
      if (ttl > 0) usage.maxTtlSeconds = Math.max(usage.maxTtlSeconds ?? 0, ttl);
      byFamily.set(family, usage);
    }
  } while (cursor !== '0');
  return [...byFamily.values()].sort((a, b) => b.bytes - a.bytes);
}
