import { InflightCaps, type LearnedCap } from './inflight-cap.ts';
import type { RedisClient } from './lua-script.ts';
import { type GovernorState, RateGovernor } from './rate-governor.ts';

/** What `runflow-queue health` shows of the governor: the rate factor and the learned per-model caps. */
export interface AccountGovernorState extends GovernorState {
  /** The caps learned from 429s that followed the runs in flight, one per model; empty when none. */
  learnedCaps: LearnedCap[];
}

/**
 * Reads the governor's state of one Runflow account (the key the workers' governor uses: RATE_LIMIT_KEY
 * or the API key; only its hash is read) without changing it. The rate settings only shape how the
 * factor's recovery since the last 429 is computed; pass the workers' own for exact numbers.
 */
export async function readGovernorState(
  redis: RedisClient,
  options: { prefix: string; apiKey: string; requestsPerSecond?: number; burst?: number; now?: number },
): Promise<AccountGovernorState> {
  const now = options.now ?? Date.now();
  const governor = new RateGovernor(redis, {
    prefix: options.prefix,
    apiKey: options.apiKey,
    requestsPerSecond: options.requestsPerSecond ?? 1,
    burst: options.burst ?? 1,
    now: () => now,
  });
  const caps = new InflightCaps(redis, { prefix: options.prefix, apiKey: options.apiKey });
  const [state, learnedCaps] = await Promise.all([governor.state(), caps.learned(now)]);
  return { ...state, learnedCaps };
}
