import type { ChaosFleet } from './chaos-fleet.ts';
import type { ChaosEvent, ChaosPlan } from './chaos-plan.ts';
import type { ChaosReport, RunObservations } from './chaos-report.ts';
import type { ChaosFacts } from './collect-facts.ts';

// A chaos scenario (`pnpm chaos --scenario NAME`): its own plan (built on today's, so today's faults
// still run), the faults only it knows — carried out when the schedule reaches them — and its own
// verdicts and numbers, added to the report. Each scenario lives in its own scenario-<name>.ts.

export type ScenarioEvent = Extract<ChaosEvent, { kind: 'scenario' }>;

export interface ScenarioContext {
  fleet: ChaosFleet;
  seen: RunObservations;
  /** Prefixed with the run's clock. */
  log: (line: string) => void;
}

export interface ChaosScenario {
  name: string;
  plan: ChaosPlan;
  runEvent(event: ScenarioEvent, ctx: ScenarioContext): Promise<void>;
  /** The report with the scenario's verdicts and numbers added; `ok` covers them too. */
  check(plan: ChaosPlan, facts: ChaosFacts, seen: RunObservations, report: ChaosReport): ChaosReport;
}
