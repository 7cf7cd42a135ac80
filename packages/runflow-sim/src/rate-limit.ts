// The simulator's account-wide request limit: a token bucket holding at most one second of requests
// (burst = rate, but at least one request so that rates below 1/s still let requests through),
// refilled continuously.

export type TakeResult = { ok: true } | { ok: false; retryAfterMs: number };

export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  private tokens: number;
  private refilledAtMs: number;

  constructor(ratePerSecond: number, nowMs: number = performance.now()) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
      throw new RangeError(`rateLimitPerSecond must be a positive number, got ${ratePerSecond}`);
    }
    this.ratePerSecond = ratePerSecond;
    this.burst = Math.max(1, ratePerSecond);
    this.tokens = this.burst;
    this.refilledAtMs = nowMs;
  }

  /** Takes one request's token, or says how long until one is available. */
  take(nowMs: number = performance.now()): TakeResult {
    this.refill(nowMs);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: ((1 - this.tokens) / this.ratePerSecond) * 1000 };
  }

  /** Whole tokens left now (what an `X-RateLimit-Remaining` header would say). */
  remaining(nowMs: number = performance.now()): number {
    this.refill(nowMs);
    return Math.floor(this.tokens);
  }

  private refill(nowMs: number): void {
    const elapsedMs = Math.max(0, nowMs - this.refilledAtMs);
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs / 1000) * this.ratePerSecond);
    this.refilledAtMs = nowMs;
  }
}
