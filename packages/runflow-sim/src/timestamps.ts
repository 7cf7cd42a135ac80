// Runflow is a Python service: its timestamps are `datetime.isoformat()` in UTC, i.e.
// `2026-11-22T01:02:03.123456+00:00` — six fraction digits and a `+00:00` offset, never `Z`.

/** Wall-clock epoch milliseconds with sub-millisecond precision (for the microsecond digits). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Python-isoformat UTC timestamp of an epoch time in (possibly fractional) milliseconds. */
export function isoTimestamp(epochMs: number): string {
  const wholeMs = Math.floor(epochMs);
  const micros = Math.floor((epochMs - wholeMs) * 1000);
  const base = new Date(wholeMs).toISOString(); // 2026-11-22T01:02:03.123Z
  return `${base.slice(0, 23)}${String(micros).padStart(3, '0')}+00:00`;
}
