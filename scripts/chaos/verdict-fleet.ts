import type { ChaosPlan } from './chaos-plan.ts';
import type { ChaosReport, InvariantVerdict } from './chaos-report.ts';
import type { ChaosFacts } from './collect-facts.ts';
import type { JobOutcomes } from './job-outcomes.ts';

// Invariants 4 (budgets), 5 (rate limit held fleet-wide) and 6 (callbacks authenticated): what the
// fleet as a whole did against the budget windows, the simulator and ingest.

/** 4. Nothing still reserved; what the windows call spent is what jobs settled (waste counts against none). */
export function checkBudgets(
  plan: ChaosPlan,
  facts: ChaosFacts,
): { verdict: InvariantVerdict; budget: ChaosReport['budget'] } {
  const budget = facts.budgets
    .filter((b) => plan.workloads.queues.some((q) => q.name === b.queue && q.budget))
    .map((b) => {
      const rows = facts.ledgerRows.filter((row) => row.queue === b.queue);
      const expected = rows.reduce((n, row) => n + row.spendMicroUsd - row.wasteMicroUsd, 0);
      return { ...b, expectedMicroUsd: expected };
    });
  return {
    budget,
    verdict: {
      id: 4,
      name: 'budgets bind before money moves',
      holds: budget.every(
        (b) => b.reservationsHeld === 0 && b.reservedMicroUsd === 0 && b.spentMicroUsd === b.expectedMicroUsd,
      ),
      detail: budget
        .map(
          (b) =>
            `${b.queue}: ${b.reservationsHeld} reservations left, spent ${b.spentMicroUsd} µUSD = settled ${b.expectedMicroUsd}`,
        )
        .join('; '),
    },
  };
}

/** 5. The busiest second of requests to the simulator (creates and polls), fleet-wide; 429s burned no job. */
export function checkRateLimit(
  plan: ChaosPlan,
  facts: ChaosFacts,
  outcomes: JobOutcomes,
): { verdict: InvariantVerdict; rateLimit: ChaosReport['rateLimit'] } {
  const times = [...facts.requestTimes].sort((a, b) => a - b);
  let maxRequestsInOneSecond = 0;
  for (let lo = 0, hi = 0; hi < times.length; hi += 1) {
    while (times[hi] - times[lo] >= 1_000) lo += 1;
    maxRequestsInOneSecond = Math.max(maxRequestsInOneSecond, hi - lo + 1);
  }
  const rate = plan.workloads.rateLimit ?? { requestsPerSecond: 20, burst: 20 };
  const configuredPerSecond = rate.requestsPerSecond ?? 20;
  const burst = rate.burst ?? 20;
  const { failedByCode } = outcomes;
  return {
    rateLimit: { configuredPerSecond, burst, maxRequestsInOneSecond },
    verdict: {
      id: 5,
      name: 'rate limit held fleet-wide',
      holds:
        maxRequestsInOneSecond <= configuredPerSecond + burst &&
        !failedByCode.RATE_LIMITED_TOO_LONG &&
        !failedByCode.RUNFLOW_RETRIES_EXHAUSTED &&
        !failedByCode.ATTEMPTS_EXHAUSTED,
      detail: `busiest second ${maxRequestsInOneSecond} requests (limit ${configuredPerSecond}/s + burst ${burst}); ${facts.simStats.faultsInjected.createRateLimited + facts.simStats.faultsInjected.getRateLimited} injected 429s burned no job`,
    },
  };
}

/** 6. Every delivery attempt the simulator made, by what ingest answered: none refused but 503s. */
export function checkCallbacks(facts: ChaosFacts): { verdict: InvariantVerdict; callbacks: ChaosReport['callbacks'] } {
  const callbacks = {
    received: Object.values(facts.callbacks).reduce((n, c) => n + c.received, 0),
    duplicate: Object.values(facts.callbacks).reduce((n, c) => n + c.duplicate, 0),
    rejected: 0,
    rejected401: 0,
    storeFailed503: 0,
    unreachable: 0,
    givenUp: facts.simStats.callbacksFailed,
    dropped: facts.simStats.callbacksDropped,
  };
  for (const run of facts.runs) {
    for (const attempt of run.deliveries) {
      if (attempt.statusCode === null) callbacks.unreachable += 1;
      else if (attempt.statusCode === 401) callbacks.rejected401 += 1;
      else if (attempt.statusCode === 503) callbacks.storeFailed503 += 1;
      if (attempt.statusCode !== null && attempt.statusCode >= 400 && attempt.statusCode !== 503)
        callbacks.rejected += 1;
    }
  }
  return {
    callbacks,
    verdict: {
      id: 6,
      name: 'callbacks authenticated',
      holds: callbacks.rejected === 0,
      detail: `${callbacks.rejected401} answered 401 across the secret rotation, ${callbacks.rejected} rejected in all`,
    },
  };
}
