import type { ChaosPlan } from './chaos-plan.ts';
import type { ChaosReport, InvariantVerdict } from './chaos-report.ts';
import type { ChaosFacts } from './collect-facts.ts';

// Invariant 10 under the trouble scenario: long trouble holds, it does not fail. Every failure is a
// run the simulator failed (or a legacy job's bad data); the breaker opened during the outage and,
// from the moment every worker could see it, Runflow saw at most one request per 5 s; the credit
// ran out, the fleet held, and every job still ended; a model's concurrency cap did not collapse the
// fleet's rate factor.

export interface Episode {
  startedAt: number;
  endedAt: number;
}

export interface TroubleObservations {
  outages: (Episode & { breakerOpenedAt: number | undefined })[];
  creditHolds: Episode[];
  redisOoms: Episode[];
  cappedModels: (Episode & { lowestFactor: number; capRejected: number; learnedCap: number | undefined })[];
}

/** Under a model's concurrency cap the fleet's rate factor must not collapse (it fell to 0.059 before). */
const LOWEST_FACTOR_UNDER_A_CAP = 0.25;

/** Workers refresh their cached holds every 500 ms: from open + this, none may send anything but probes. */
const SEEN_BY_EVERY_WORKER_MS = 1_000;
/** Probes start 5 s apart (BREAKER_PROBE_BASE_MS) and back off; a little timer slack. */
const MIN_PROBE_GAP_MS = 4_900;
const ALLOWED_FAILURES = new Set(['RUN_FAILED', 'INVALID_JOB_DATA']);

const total = (episodes: Episode[]) => episodes.reduce((sum, e) => sum + (e.endedAt - e.startedAt), 0);

export function checkTrouble(
  plan: ChaosPlan,
  facts: ChaosFacts,
  report: ChaosReport,
  observed: TroubleObservations,
): ChaosReport {
  const times = facts.requestTimes;
  const outage = observed.outages[0];
  const during = outage ? times.filter((t) => t >= outage.startedAt && t <= outage.endedAt) : [];
  const quietFrom =
    outage?.breakerOpenedAt === undefined ? undefined : outage.breakerOpenedAt + SEEN_BY_EVERY_WORKER_MS;
  const onceOpen = quietFrom === undefined ? [] : during.filter((t) => t >= quietFrom);
  const gaps = onceOpen.slice(1).map((t, i) => t - onceOpen[i]);
  const minGapMs = gaps.length > 0 ? Math.min(...gaps) : null;
  const unexpected = Object.entries(report.failedByCode).filter(([code]) => !ALLOWED_FAILURES.has(code));
  const legacyInvalid = report.failedByCode.INVALID_JOB_DATA ?? 0;
  const insufficientCredit = facts.simStats.insufficientCredit;

  const problems: string[] = [];
  if (unexpected.length > 0)
    problems.push(`failures other than RUN_FAILED: ${unexpected.map(([c, n]) => `${c} ${n}`).join(', ')}`);
  if (legacyInvalid > plan.legacyInvalidJobs)
    problems.push(`${legacyInvalid} INVALID_JOB_DATA, only ${plan.legacyInvalidJobs} legacy jobs`);
  if (!outage) problems.push('no outage ran');
  else if (outage.breakerOpenedAt === undefined) problems.push('the breaker never opened during the outage');
  if (minGapMs !== null && minGapMs < MIN_PROBE_GAP_MS)
    problems.push(`two requests ${minGapMs} ms apart once the breaker was open`);
  if (observed.creditHolds.length > 0 && insufficientCredit === 0)
    problems.push('credit ran out but no create met a 402');
  if (report.lost > 0) problems.push(`${report.lost} jobs lost`);
  const capped = observed.cappedModels[0];
  if (capped && capped.lowestFactor < LOWEST_FACTOR_UNDER_A_CAP)
    problems.push(
      `the rate factor fell to ${capped.lowestFactor.toFixed(2)} under a model's cap (a cap read as a rate limit)`,
    );

  const verdict: InvariantVerdict = {
    id: 10,
    name: 'long trouble holds, it does not fail',
    holds: problems.length === 0,
    detail:
      problems.length > 0
        ? problems.join('; ')
        : `breaker open ${outage?.breakerOpenedAt !== undefined ? outage.breakerOpenedAt - outage.startedAt : '?'} ms into the outage; ${onceOpen.length} requests once open (min gap ${minGapMs ?? '—'} ms); ${insufficientCredit} creates met a 402; failures only RUN_FAILED`,
  };
  const numbers = {
    outageMs: total(observed.outages),
    requestsDuringOutage: during.length,
    breakerOpenedAfterMs: outage?.breakerOpenedAt === undefined ? null : outage.breakerOpenedAt - outage.startedAt,
    requestsOnceBreakerOpen: onceOpen.length,
    minRequestGapOnceOpenMs: minGapMs,
    creditHoldMs: total(observed.creditHolds),
    insufficientCreditAnswers: insufficientCredit,
    balanceProbes: facts.simStats.balanceRequests,
    redisOomMs: total(observed.redisOoms),
    cappedModelMs: total(observed.cappedModels),
    capRejected: capped?.capRejected ?? 0,
    lowestFactorWhileCapped: capped?.lowestFactor ?? null,
    learnedCap: capped?.learnedCap ?? null,
  };
  const invariants = [...report.invariants, verdict].sort((a, b) => a.id - b.id);
  return {
    ...report,
    ...numbers,
    invariants,
    ok: report.ok && verdict.holds,
    scenario: 'trouble',
    scenarioRows: [
      ['Runflow outage (503, then refused)', `${(numbers.outageMs / 1000).toFixed(1)} s`],
      ['requests Runflow saw during the outage', numbers.requestsDuringOutage],
      ['breaker opened after', numbers.breakerOpenedAfterMs === null ? 'never' : `${numbers.breakerOpenedAfterMs} ms`],
      [
        'requests once the breaker was open (min gap)',
        `${numbers.requestsOnceBreakerOpen} (${minGapMs === null ? '—' : `${minGapMs} ms`})`,
      ],
      ['credit spent until top-up', `${(numbers.creditHoldMs / 1000).toFixed(1)} s`],
      ['creates answered 402 / balance probes', `${insufficientCredit} / ${numbers.balanceProbes}`],
      ['Redis at maxmemory (noeviction)', `${(numbers.redisOomMs / 1000).toFixed(1)} s`],
      [
        'capped model (creates over the cap)',
        `${(numbers.cappedModelMs / 1000).toFixed(1)} s (${numbers.capRejected})`,
      ],
      [
        'lowest rate factor under the cap / learned cap',
        `${numbers.lowestFactorWhileCapped === null ? '—' : numbers.lowestFactorWhileCapped.toFixed(2)} / ${numbers.learnedCap ?? 'none'}`,
      ],
    ],
  };
}
