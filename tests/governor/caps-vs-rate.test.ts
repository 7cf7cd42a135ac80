import { healthRows, readAccountHealth } from '@runflow-queue/stats';
import { readGovernorState } from '@runflow-queue/store';
import { afterEach, describe, expect, it } from 'vitest';
import { maxInWindow } from '../../bench/scenarios/governor.ts';
import { type Fleet, nb2Edit, proEdit, startFleet, waitFor } from '../support/fleet.ts';

// Caps are not rate limits (issue 11, item 5). A model's concurrency cap on Runflow — 429s that follow
// the runs in flight, or runs that wait `queued` — must not slow the fleet's rate, and the model must
// still run about C runs per L; a fixed share of 429s whatever the rate must not collapse it either;
// a real rate limit is still held (never above limit + burst in a second, and its 429s stop).

const PRO = 'google/nano-banana-pro/edit';
const CAP = 4;
const LATENCY_MS = 400;

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

type Edit = ReturnType<typeof proEdit> | ReturnType<typeof nb2Edit>;

async function runAll(f: Fleet, jobs: number, edit: (i: number) => Edit, timeoutMs: number) {
  const started = Date.now();
  await f.producer.enqueueEdits(
    'edits',
    Array.from({ length: jobs }, (_, i) => edit(i)),
  );
  const queue = f.producer.queue('edits');
  await waitFor(
    async () => (await queue.getCompletedCount()) + (await queue.getFailedCount()) >= jobs,
    timeoutMs,
    `${jobs} jobs finished`,
  );
  const failed = await queue.getFailed();
  return { elapsedMs: Date.now() - started, failed: failed.map((job) => job.failedReason) };
}

function governorState(f: Fleet) {
  return readGovernorState(f.redis, { prefix: f.prefix, apiKey: f.sim.apiKey, requestsPerSecond: 40, burst: 5 });
}

const capped = (mode: 'reject' | 'queue') => ({
  sim: {
    latencyMs: { min: LATENCY_MS, max: LATENCY_MS },
    concurrencyCaps: { models: { [PRO]: CAP }, mode },
  },
  workloads: { rateLimit: { requestsPerSecond: 40, burst: 5 }, queues: [{ name: 'edits', concurrency: 16 }] },
});

describe('a capped model', () => {
  // One retry. Under load this halved once in 1 of 2 CI runs: a cap learned one high (ours one ahead of
  // Runflow's), then 429s one below it with nothing else answered read as the rate limit. That is fixed
  // (learned-caps.test.ts), but before any cap is learned a first 429 with fewer in flight than a create
  // got through with still cannot be told from the rate limit. Two such starts in a row fail.
  it('reject mode: learns the cap from the 429s, leaves the rate alone, and runs about C per L', {
    retry: 1,
  }, async () => {
    await fleet?.close();
    fleet = await startFleet(capped('reject'));
    const jobs = 60;
    const { elapsedMs, failed } = await runAll(fleet, jobs, (i) => proEdit(`cap ${i}`), 60_000);
    expect(failed).toEqual([]);
    const state = await governorState(fleet);
    expect(state.penalties).toBe(0);
    expect(state.factor).toBe(1);
    expect(state.learnedCaps.map((c) => c.model)).toEqual([PRO]);
    expect(state.learnedCaps[0].cap).toBeGreaterThanOrEqual(CAP);
    expect(state.learnedCaps[0].cap).toBeLessThanOrEqual(CAP + 2);
    // `runflow-queue health` (and the API's and dashboard's) shows the cap it learned.
    const health = await readAccountHealth(fleet.redis, { prefix: fleet.prefix, accountKey: fleet.sim.apiKey });
    expect(healthRows(health).find((row) => row.part === 'learned caps')?.state).toMatch(
      new RegExp(`^${PRO} ≤ \\d+ in flight$`),
    );
    // The 429s stay a small share of the creates: the fleet waits at admission, not at Runflow.
    expect(fleet.sim.stats().capRejected).toBeLessThan(jobs / 2);
    // Near C per L: 60 runs at 4 per 0.4 s is 6 s; a collapsed rate (1 request/s) would take a minute.
    expect(elapsedMs).toBeLessThan(2 * ((jobs * LATENCY_MS) / CAP) + 5_000);
  });

  it('queue mode: the runs wait queued at Runflow; no 429, the rate untouched, about C per L', async () => {
    fleet = await startFleet(capped('queue'));
    const jobs = 60;
    const { elapsedMs, failed } = await runAll(fleet, jobs, (i) => proEdit(`queued ${i}`), 60_000);
    expect(failed).toEqual([]);
    expect(fleet.sim.stats().capQueued).toBeGreaterThan(0);
    expect(fleet.sim.stats().responsesByStatus['429']).toBeUndefined();
    const state = await governorState(fleet);
    expect(state).toMatchObject({ factor: 1, penalties: 0, learnedCaps: [] });
    expect(elapsedMs).toBeLessThan(2 * ((jobs * LATENCY_MS) / CAP) + 5_000);
  });

  it('every 4th create answered 429 whatever the rate: the rate factor does not collapse', async () => {
    fleet = await startFleet({
      sim: { latencyMs: { min: 50, max: 100 }, faults: { createRateLimited: 0.25 } },
      workloads: { rateLimit: { requestsPerSecond: 20, burst: 5 }, queues: [{ name: 'edits', concurrency: 16 }] },
    });
    const f = fleet;
    const jobs = 200;
    let lowest = 1;
    const sampling = setInterval(() => {
      governorState(f).then(
        (s) => {
          lowest = Math.min(lowest, s.factor);
        },
        () => {},
      );
    }, 250);
    try {
      // Alternating models, as a fleet has them: two models' 429s at once look like the rate limit.
      const { elapsedMs, failed } = await runAll(f, jobs, (i) => (i % 2 ? proEdit(`share ${i}`) : nb2Edit()), 90_000);
      expect(failed).toEqual([]);
      // At 20 requests/s with a quarter of the creates refused, 200 jobs take ~13 s; the collapse took 71 s.
      expect(elapsedMs).toBeLessThan(40_000);
    } finally {
      clearInterval(sampling);
    }
    expect(lowest).toBeGreaterThanOrEqual(0.25);
  });
});

describe('a real rate limit', () => {
  it('is still held: never above limit + burst in any second, and its 429s stop', async () => {
    const limit = 30;
    const burst = 5;
    fleet = await startFleet({
      sim: { latencyMs: { min: 100, max: 200 }, rateLimitPerSecond: 12 },
      workloads: { rateLimit: { requestsPerSecond: limit, burst }, queues: [{ name: 'edits', concurrency: 16 }] },
    });
    const f = fleet;
    const jobs = 420;
    const seen429: number[] = [];
    const sampling = setInterval(() => seen429.push(f.sim.stats().rateLimited), 1_000);
    let failed: string[];
    try {
      ({ failed } = await runAll(f, jobs, (i) => (i % 2 ? proEdit(`limit ${i}`) : nb2Edit()), 120_000));
    } finally {
      clearInterval(sampling);
    }
    expect(failed).toEqual([]);
    const times = f.sim.requestTimes().sort((a, b) => a - b);
    // From the first second on: the very first window can hold one more, by the receiver's clock — the
    // initial burst waits for its connections while the requests after it do not (pre-existing, the
    // governor's grants are within the bound; see BENCHMARKS.md, governor).
    const steady = times.filter((t) => t >= times[0] + 1_000);
    expect(maxInWindow(steady, 1_000)).toBeLessThanOrEqual(limit + burst);
    const state = await governorState(f);
    expect(state.penalties).toBeGreaterThan(0);
    expect(state.undone).toBe(0);
    // The 429s stop: the last third of the run draws a small fraction of the first third's.
    expect(seen429.length).toBeGreaterThan(9);
    const third = Math.floor(seen429.length / 3);
    const first = seen429[third - 1];
    const last = seen429[seen429.length - 1] - seen429[seen429.length - 1 - third];
    expect(last).toBeLessThanOrEqual(first / 4);
  });
});
