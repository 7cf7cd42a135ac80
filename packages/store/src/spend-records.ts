import { spendKeys } from './keys.ts';
import type { RedisClient } from './lua-script.ts';
import { decodeSpendRecord, type SpendRecord } from './spend-record.ts';
import { SPEND_RECORD_RETENTION_DAYS } from './spend-retention.ts';

// Reads the per-run spend records back for an export: every per-day hash that may hold a run that
// billed in the window (runs are filed by the day they were created, and bill on that day or a later
// one), HSCAN in pages so an export of a million runs never holds them all, filtered on the billing day.

const DAY_MS = 24 * 3600_000;
const PAGE = 1_000;

export interface RecordWindow {
  /** First billing day, YYYY-MM-DD (UTC), inclusive. */
  fromDay: string;
  /** Last billing day, inclusive. */
  toDay: string;
  queues?: readonly string[] | undefined;
}

export class SpendRecords {
  readonly #redis: RedisClient;
  readonly #prefix: string;

  constructor(redis: RedisClient, options: { prefix: string }) {
    this.#redis = redis;
    this.#prefix = options.prefix;
  }

  /** The creation-day hashes that can hold runs billed in the window, plus `undated`. */
  hashKeys(window: RecordWindow, now = Date.now()): string[] {
    const keys = spendKeys(this.#prefix);
    // Hashes older than the retention have expired, and none is dated after tomorrow.
    const today = Math.floor(now / DAY_MS) * DAY_MS;
    const from = Math.max(
      Date.parse(`${window.fromDay}T00:00:00Z`) - SPEND_RECORD_RETENTION_DAYS * DAY_MS,
      today - (SPEND_RECORD_RETENTION_DAYS + 1) * DAY_MS,
    );
    const to = Math.min(Date.parse(`${window.toDay}T00:00:00Z`), today + DAY_MS);
    const out: string[] = [];
    for (let at = from; at <= to; at += DAY_MS) out.push(keys.runs(new Date(at).toISOString().slice(0, 10)));
    out.push(keys.runs('undated'));
    return out;
  }

  /** Every record billed in the window, page by page (order: by creation day, then as Redis keeps them). */
  async *scan(window: RecordWindow, onPage?: (scanned: number) => void): AsyncGenerator<SpendRecord> {
    const queues = window.queues ? new Set(window.queues) : undefined;
    let scanned = 0;
    for (const key of this.hashKeys(window)) {
      let cursor = '0';
      // A field can come back twice while Redis rehashes: each run once.
      const seen = new Set<string>();
      do {
        const [next, flat] = await this.#redis.hscan(key, cursor, 'COUNT', PAGE);
        cursor = next;
        for (let i = 0; i < flat.length; i += 2) {
          const runId = flat[i];
          if (seen.has(runId)) continue;
          seen.add(runId);
          const record = decodeSpendRecord(runId, flat[i + 1]);
          if (record.day < window.fromDay || record.day > window.toDay) continue;
          if (queues && !queues.has(record.queue)) continue;
          yield record;
        }
        scanned += flat.length / 2;
        onPage?.(scanned);
      } while (cursor !== '0');
    }
  }

  /** Whether each run id has a record (settled), in one round trip per hash. */
  async settled(runIds: readonly string[], keyOf: (runId: string) => string): Promise<Set<string>> {
    const byKey = new Map<string, string[]>();
    for (const id of runIds) byKey.set(keyOf(id), [...(byKey.get(keyOf(id)) ?? []), id]);
    const found = new Set<string>();
    for (const [key, ids] of byKey) {
      const values = await this.#redis.hmget(key, ...ids);
      ids.forEach((id, i) => {
        if (values[i] !== null) found.add(id);
      });
    }
    return found;
  }
}
