/**
 * Parses an HTTP `Retry-After` value (RFC 9110 §10.2.3) into milliseconds from `nowMs`.
 * Accepts delta-seconds ("2", leniently "1.5") and an HTTP-date; a date in the past gives 0.
 * Returns undefined when the header is absent or unreadable: the caller falls back to its own backoff
 * (the newer Runflow docs say 429s carry no Retry-After at all).
 */
export function parseRetryAfterMs(
  value: string | string[] | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (text === '') return undefined;

  if (/^\d+(\.\d+)?$/.test(text)) {
    const ms = Math.round(Number(text) * 1000);
    return Number.isSafeInteger(ms) ? ms : undefined;
  }

  // An HTTP-date always names a weekday or month; requiring a letter keeps "-5" and "1e3" out of Date.parse.
  if (!/[a-z]/i.test(text)) return undefined;
  const atMs = Date.parse(text);
  if (Number.isNaN(atMs)) return undefined;
  return Math.max(0, atMs - nowMs);
}
