import type { EditProducer } from '@runflow-queue/producer';
import { AccountHolds } from '@runflow-queue/store';
import type { HoldsConfig } from '@runflow-queue/worker';
import { expect } from 'vitest';
import { type Fleet, waitFor } from '../support/fleet.ts';

/** Short hold timings, so a test sees a breaker open, probe and close in seconds. */
export const FAST_HOLDS: HoldsConfig = {
  breaker: { failures: 5, windowMs: 5_000, probeBaseMs: 500, probeMaxMs: 2_000 },
  creditProbeIntervalMs: 300,
  refreshMs: 100,
  recheckMs: 400,
};

/** The fleet's account holds, as an operator (or the CLI) sees them. */
export function holdsOf(fleet: Fleet): AccountHolds {
  return new AccountHolds(fleet.redis, { prefix: fleet.prefix, accountKey: fleet.sim.apiKey });
}

export async function enqueueMany(
  producer: EditProducer,
  queue: string,
  count: number,
  label: string,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const job = await producer.enqueueEdit(queue, {
      model: 'google/nano-banana-pro/edit',
      input: { prompt: `${label} ${i}`, image_urls: ['https://example.com/in.png'] },
    });
    ids.push(job.id);
  }
  return ids;
}

/** The jobs' states, counted. */
export async function statesOf(fleet: Fleet, queue: string, ids: readonly string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const id of ids) {
    const status = await fleet.producer.getEdit(queue, id);
    const state = status?.state ?? 'missing';
    counts[state] = (counts[state] ?? 0) + 1;
  }
  return counts;
}

/** Waits until every job ended; resolves the failures' codes (none expected in these tests). */
export async function waitAllEnded(fleet: Fleet, queue: string, ids: readonly string[], timeoutMs: number) {
  await waitFor(
    async () => {
      const states = await statesOf(fleet, queue, ids);
      return (states.completed ?? 0) + (states.failed ?? 0) === ids.length;
    },
    timeoutMs,
    `${ids.length} jobs ended`,
  );
  const failures: string[] = [];
  for (const id of ids) {
    const status = await fleet.producer.getEdit(queue, id);
    if (status?.state === 'failed') failures.push(status.failure?.code ?? 'UNCODED');
  }
  return failures;
}

/**
 * Once the breaker is open (since `sinceMs`), Runflow sees only the probes: at most one per probeBaseMs
 * (FAST_HOLDS: 500 ms), one at a time.
 */
export function expectProbesOnly(requestTimes: readonly number[], sinceMs: number): void {
  expect(requestTimes.length).toBeLessThanOrEqual(Math.ceil((Date.now() - sinceMs) / 500) + 1);
  for (let i = 1; i < requestTimes.length; i += 1) {
    expect(requestTimes[i] - requestTimes[i - 1]).toBeGreaterThanOrEqual(450);
  }
}
