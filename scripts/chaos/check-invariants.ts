import type { ChaosPlan } from './chaos-plan.ts';
import type { ChaosReport, InvariantVerdict, RunObservations } from './chaos-report.ts';
import type { ChaosFacts } from './collect-facts.ts';
import { jobOutcomes, nothingLost } from './job-outcomes.ts';
import { checkBudgets, checkCallbacks, checkRateLimit } from './verdict-fleet.ts';
import { checkMoney } from './verdict-money.ts';
import { checkBadInput, checkProducer, checkShutdown } from './verdict-process.ts';
import { checkRunKept } from './verdict-run-kept.ts';

// Turns the facts of a run into the report: one verdict per invariant (each computed in its own
// function, from the facts alone) and the numbers of the summary table. Nothing is assumed: "settled
// twice" counts settlements against settle markers and runs, "lost" compares the job ids the producer
// accepted with the jobs that finished.

export type { ChaosReport, InvariantVerdict, RunObservations } from './chaos-report.ts';

export function checkInvariants(plan: ChaosPlan, facts: ChaosFacts, seen: RunObservations): ChaosReport {
  const outcomes = jobOutcomes(facts, seen);
  const money = checkMoney(plan, facts, outcomes);
  const budgets = checkBudgets(plan, facts);
  const rate = checkRateLimit(plan, facts, outcomes);
  const callbacks = checkCallbacks(facts);
  const shutdown = checkShutdown(plan, seen);
  const producer = checkProducer(seen);
  const invariants: InvariantVerdict[] = [
    nothingLost(outcomes, seen),
    money.payOnce,
    money.exactSpend,
    budgets.verdict,
    rate.verdict,
    callbacks.verdict,
    checkBadInput(outcomes, seen),
    shutdown.verdict,
    checkRunKept(facts, outcomes),
    producer.verdict,
  ];
  const completedByPoll = outcomes.completed.filter((job) => job.result?.completedBy === 'poll').length;
  return {
    jobs: plan.jobs,
    accepted: seen.accepted.size,
    completed: outcomes.completed.length,
    failed: outcomes.failed.length,
    failedByCode: outcomes.failedByCode,
    lost: outcomes.lost,
    unacknowledged: outcomes.unacknowledged,
    runsCreated: facts.runs.length,
    runsBilled: facts.billing.entries.length,
    ...money.numbers,
    callbacks: callbacks.callbacks,
    completedByCallback: outcomes.completed.length - completedByPoll,
    completedByPoll,
    faultsInjected: facts.simStats.faultsInjected,
    simRequests: {
      create: facts.simStats.createRequests,
      get: facts.simStats.getRequests,
      search: facts.simStats.searchRequests,
    },
    processFaults: seen.processFaults,
    scheduleErrors: seen.scheduleErrors,
    rateLimit: rate.rateLimit,
    budget: budgets.budget,
    producer: producer.producer,
    shutdown: shutdown.shutdown,
    elapsedMs: seen.elapsedMs,
    invariants,
    ok: invariants.every((v) => v.holds) && seen.scheduleErrors.length === 0,
  };
}
