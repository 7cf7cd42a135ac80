import type { StartedRedis } from '@runflow-queue/testkit';
import type { MachineInfo } from './support/machine.ts';

// What every benchmark scenario is: a name, one line of description, and a run that returns a table
// (printed) and the same rows as data (written to --json). Scenarios live one per file under
// bench/scenarios/ and are registered in bench/scenarios/index.ts.

export interface BenchContext {
  /** One Redis for the whole bench run; each trial isolates itself with its own key prefix. */
  redis: StartedRedis;
  /** Per-run directory for the spawned processes' logs. */
  logDir: string;
  machine: MachineInfo;
  /** Progress lines (stderr), so stdout stays the tables. */
  log(line: string): void;
}

export interface Column {
  key: string;
  header: string;
}

export type Row = Record<string, string | number | null>;

export interface ScenarioReport {
  /** The fixed inputs of the run (simulator latency, rate limit, job count …). */
  params: Record<string, unknown>;
  columns: Column[];
  rows: Row[];
  /** Lines printed under the table: what to read from it. */
  notes?: string[];
  /** The scenario's headline numbers under stable names (e.g. pipelineVsRawRatio), in the JSON. */
  summary?: Record<string, number | string | null>;
  /** What makes the numbers meaningless (jobs failed or lost, runs paid twice): the bench exits 1. */
  problems?: string[];
}

export interface Scenario {
  name: string;
  description: string;
  run(context: BenchContext): Promise<ScenarioReport>;
}
