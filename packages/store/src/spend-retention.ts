import { spendKeys } from './keys.ts';
import { uuidV7TimeMs } from './spend-record.ts';

// How long a run's spend record (its settle-once marker too) is kept, and where it lives. It must
// outlive everything that could settle the run again: the callback inbox (7 days), kept jobs (24 h
// completed, 7 days failed) and callback retries; and it is most of a finished job's Redis footprint,
// so no longer than that. Finance exports each day's records well within it (`spend export`).

/** Days a per-day hash of spend records outlives the end of its day. */
export const SPEND_RECORD_RETENTION_DAYS = 8;
const DAY_MS = 24 * 3600_000;

/** The per-day hash holding this run's record: the UTC day the UUIDv7 id was minted, else `undated`. */
export function recordsDayOf(runId: string): string {
  const ms = uuidV7TimeMs(runId);
  return ms === undefined ? 'undated' : new Date(ms).toISOString().slice(0, 10);
}

export function recordsKeyOf(prefix: string, runId: string): string {
  return spendKeys(prefix).runs(recordsDayOf(runId));
}

/**
 * EXPIREAT (s) of the run's per-day hash: the end of its day plus the retention. The `undated` hash (ids
 * that are not UUIDv7) is pushed out on every write instead, so it lives as long as such runs keep coming.
 */
export function runsExpireAtSeconds(runId: string, nowMs: number): number {
  const ms = uuidV7TimeMs(runId);
  const base = ms === undefined ? nowMs : Math.floor(ms / DAY_MS) * DAY_MS + DAY_MS;
  return Math.ceil((base + SPEND_RECORD_RETENTION_DAYS * DAY_MS) / 1000);
}
