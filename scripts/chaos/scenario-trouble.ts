import { AccountHolds, readGovernorState } from '@runflow-queue/store';
import { Redis } from 'ioredis';
import { type ChaosEvent, type ChaosPlan, planChaos } from './chaos-plan.ts';
import type { ChaosScenario, ScenarioContext, ScenarioEvent } from './chaos-scenario.ts';
import { checkTrouble, type TroubleObservations } from './verdict-trouble.ts';

// `pnpm chaos --scenario trouble`: today's run (every fault of `pnpm chaos`) plus trouble that lasts
// minutes — a Runflow outage (every request 503, then connection refused), the account's credit
// running out and topped up later, Redis at maxmemory with noeviction — one after the other, while
// jobs keep coming. Durations scale by flag, so `pnpm test` runs a short version.

export interface TroubleOptions {
  jobs: number;
  workers?: number;
  /** The whole Runflow outage: the first half answers 503, the second refuses connections (default 5 min). */
  outageMs?: number;
  /** From the balance running out to the top-up (default 2 min). */
  creditHoldMs?: number;
  /** Redis refusing writes (default 60 s). */
  redisOomMs?: number;
  /** A model capped at CAPPED_MODEL_CAP runs in flight, creates over it answered 429 (default 60 s). */
  cappedMs?: number;
}

/** The capped model, and its cap: a per-model concurrency cap, not a rate limit (runflow-api.md §6). */
const CAPPED_MODEL = 'google/nano-banana-pro/edit';
const CAPPED_MODEL_CAP = 4;

const sec = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

export function planTrouble(options: TroubleOptions): ChaosPlan {
  const outageMs = options.outageMs ?? 5 * 60_000;
  const creditHoldMs = options.creditHoldMs ?? 2 * 60_000;
  const redisOomMs = options.redisOomMs ?? 60_000;
  const cappedMs = options.cappedMs ?? (outageMs < 60_000 ? 6_000 : 60_000);
  const base = planChaos({ jobs: options.jobs, workers: options.workers });
  const short = outageMs < 60_000;
  const gapMs = short ? 3_000 : 15_000;
  const outageAt = short ? 2_000 : 20_000;
  const creditAt = outageAt + outageMs + gapMs;
  const oomAt = creditAt + creditHoldMs + gapMs;
  const cappedAt = oomAt + redisOomMs + gapMs;
  const windowMs = Math.max(base.enqueueWindowMs, cappedAt + cappedMs + gapMs);

  const scenario = (atMs: number, action: string, forMs: number, what: string, detail: string): ChaosEvent => ({
    atMs,
    kind: 'scenario',
    action,
    forMs,
    what,
    detail,
  });
  const events: ChaosEvent[] = [
    ...base.events,
    scenario(
      outageAt,
      'runflow-outage',
      outageMs,
      'Runflow outage',
      `every request 503 for ${sec(outageMs / 2)}, then connection refused for ${sec(outageMs / 2)}`,
    ),
    scenario(
      creditAt,
      'credit-out',
      creditHoldMs,
      'credit runs out',
      `balance 0 (402 INSUFFICIENT_CREDIT); topped up ${sec(creditHoldMs)} later`,
    ),
    scenario(
      oomAt,
      'redis-oom',
      redisOomMs,
      'Redis at maxmemory (noeviction)',
      `every write refused for ${sec(redisOomMs)}`,
    ),
    scenario(
      cappedAt,
      'capped-model',
      cappedMs,
      'capped model',
      `${CAPPED_MODEL} capped at ${CAPPED_MODEL_CAP} runs in flight (429 without Retry-After) for ${sec(cappedMs)}`,
    ),
  ];
  // Today's worker SIGKILLs go on through the longer window, more sparsely.
  const killEveryMs = short ? 8_000 : 30_000;
  const lastKill = Math.max(...base.events.filter((e) => e.kind === 'kill-worker').map((e) => e.atMs));
  for (let t = lastKill + killEveryMs; t <= windowMs; t += killEveryMs) events.push({ atMs: t, kind: 'kill-worker' });
  events.sort((a, b) => a.atMs - b.atMs);
  return {
    ...base,
    enqueueWindowMs: windowMs,
    events,
    workerEnv: {
      ...base.workerEnv,
      BREAKER_FAILURES: '10',
      BREAKER_WINDOW_MS: '10000',
      BREAKER_PROBE_BASE_MS: '5000',
      BREAKER_PROBE_MAX_MS: '30000',
      CREDIT_PROBE_INTERVAL_MS: short ? '2000' : '10000',
      HOLD_RECHECK_MS: short ? '1000' : '5000',
    },
    drainTimeoutMs: base.drainTimeoutMs + windowMs,
  };
}

/** The scenario: its plan, its faults and its verdict (invariant 10). */
export function troubleScenario(options: TroubleOptions): ChaosScenario {
  const plan = planTrouble(options);
  const observed: TroubleObservations = { outages: [], creditHolds: [], redisOoms: [], cappedModels: [] };
  return {
    name: 'trouble',
    plan,
    runEvent: (event, ctx) => runTroubleEvent(event, ctx, observed),
    check: (p, facts, _seen, report) => checkTrouble(p, facts, report, observed),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

async function runTroubleEvent(event: ScenarioEvent, ctx: ScenarioContext, observed: TroubleObservations) {
  const { fleet, log } = ctx;
  switch (event.action) {
    case 'runflow-outage': {
      const holds = holdsReader(fleet.redisUrl, fleet.prefix, fleet.sim.apiKey);
      const startedAt = Date.now();
      let breakerOpenedAt: number | undefined;
      const watching = (async () => {
        // When the breaker opened, as Redis says (polled: the verdict counts requests from then on).
        while (Date.now() - startedAt < event.forMs) {
          const breaker = await holds.holds.snapshot().then(
            (s) => s.breaker,
            () => undefined,
          );
          if (breaker?.open && breakerOpenedAt === undefined) {
            breakerOpenedAt = breaker.since ?? Date.now();
            log(`breaker open after ${Date.now() - startedAt} ms: ${breaker.reason}`);
          }
          await sleep(200);
        }
      })();
      log(`Runflow outage: every request answers 503 for ${sec(event.forMs / 2)}`);
      await fleet.sim.setOutage('unavailable');
      await sleep(event.forMs / 2);
      log(`Runflow outage: connections refused for ${sec(event.forMs / 2)}`);
      await fleet.sim.setOutage('refused');
      await sleep(startedAt + event.forMs - Date.now());
      await fleet.sim.setOutage('off');
      const endedAt = Date.now();
      await watching;
      holds.close();
      observed.outages.push({ startedAt, endedAt, breakerOpenedAt });
      log(`Runflow back after ${sec(endedAt - startedAt)}`);
      return;
    }
    case 'credit-out': {
      const startedAt = Date.now();
      log(`credit runs out (balance 0) for ${sec(event.forMs)}`);
      fleet.sim.setBalance(0);
      await sleep(event.forMs);
      fleet.sim.setBalance(null);
      const endedAt = Date.now();
      observed.creditHolds.push({ startedAt, endedAt });
      log(`credit topped up after ${sec(endedAt - startedAt)}`);
      return;
    }
    case 'redis-oom': {
      const admin = new Redis(fleet.redisUrl, { maxRetriesPerRequest: null });
      admin.on('error', () => {});
      try {
        await admin.config('SET', 'maxmemory-policy', 'noeviction');
        await admin.config('SET', 'maxmemory', '1');
        const startedAt = Date.now();
        log(`Redis at maxmemory (noeviction) for ${sec(event.forMs)}`);
        await sleep(event.forMs);
        await admin.config('SET', 'maxmemory', '0');
        const endedAt = Date.now();
        observed.redisOoms.push({ startedAt, endedAt });
        log(`Redis accepts writes again after ${sec(endedAt - startedAt)}`);
      } finally {
        admin.disconnect();
      }
      return;
    }
    case 'capped-model': {
      const reader = new Redis(fleet.redisUrl, { maxRetriesPerRequest: 1 });
      reader.on('error', () => {});
      const rejectedBefore = fleet.sim.stats().capRejected;
      const startedAt = Date.now();
      let lowestFactor = 1;
      log(`${CAPPED_MODEL} capped at ${CAPPED_MODEL_CAP} runs in flight for ${sec(event.forMs)}`);
      fleet.sim.setConcurrencyCaps({ models: { [CAPPED_MODEL]: CAPPED_MODEL_CAP }, mode: 'reject' });
      let learnedCap: number | undefined;
      try {
        // The fleet's rate factor, sampled: a cap must not be read as a rate limit and collapse it.
        while (Date.now() - startedAt < event.forMs) {
          const state = await readGovernorState(reader, { prefix: fleet.prefix, apiKey: fleet.sim.apiKey }).catch(
            () => undefined,
          );
          if (state) {
            lowestFactor = Math.min(lowestFactor, state.factor);
            learnedCap = state.learnedCaps.find((c) => c.model === CAPPED_MODEL)?.cap ?? learnedCap;
          }
          await sleep(500);
        }
      } finally {
        fleet.sim.setConcurrencyCaps(null);
        reader.disconnect();
      }
      const endedAt = Date.now();
      const capRejected = fleet.sim.stats().capRejected - rejectedBefore;
      observed.cappedModels.push({ startedAt, endedAt, lowestFactor, capRejected, learnedCap });
      log(
        `cap lifted after ${sec(endedAt - startedAt)}: ${capRejected} creates over it, lowest rate factor ${lowestFactor.toFixed(2)}, learned cap ${learnedCap ?? 'none'}`,
      );
      return;
    }
    default:
      throw new Error(`the trouble scenario has no fault "${event.action}"`);
  }
}

function holdsReader(redisUrl: string, prefix: string, apiKey: string) {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  return { holds: new AccountHolds(redis, { prefix, accountKey: apiKey }), close: () => redis.disconnect() };
}
