/** Timing of one job's life on Runflow. All durations in milliseconds. */
export interface LifecycleConfig {
  /** Public URL of callback-ingest that Runflow POSTs to; undefined → polling only. */
  callbackUrl: string | undefined;
  /** First wake-up after submit to poll, in case no callback comes (default 30 s; 5 s without callbackUrl). */
  firstPollDelayMs: number;
  /** Poll backoff: starts here, doubles per poll, capped at maxPollIntervalMs. */
  pollIntervalMs: number;
  maxPollIntervalMs: number;
  /** Default hard deadline from submit (a queue's `deadlineMs` overrides it). */
  runDeadlineMs: number;
  /** Retryable Runflow errors (429, 5xx, network) back off from here, exponentially with jitter. */
  transientBackoffMs: number;
  maxTransientBackoffMs: number;
  /** After this many retryable errors in a row on submit, the job fails RUNFLOW_RETRIES_EXHAUSTED. */
  maxTransientErrors: number;
  /** 429s one job may meet before it fails RATE_LIMITED_TOO_LONG (429s slow the fleet instead). */
  maxRateLimited: number;
  /** After an ambiguous submit, wait this long for the run's callback before resubmitting. */
  ambiguousGraceMs: number;
}

export const DEFAULT_LIFECYCLE: LifecycleConfig = {
  callbackUrl: undefined,
  firstPollDelayMs: 30_000,
  pollIntervalMs: 5_000,
  maxPollIntervalMs: 60_000,
  runDeadlineMs: 15 * 60_000,
  transientBackoffMs: 1_000,
  maxTransientBackoffMs: 32_000,
  maxTransientErrors: 8,
  maxRateLimited: 50,
  ambiguousGraceMs: 60_000,
};

/** Exponential backoff with full jitter on the upper half: [d/2, d), d = base·2^n capped. */
export function backoffMs(baseMs: number, attempt: number, capMs: number, random = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
