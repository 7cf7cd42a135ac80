import type { WorkloadsConfig } from '@runflow-queue/shared';
import { loadWorkloadsFile } from '@runflow-queue/worker';

/** The workers' workloads file (JSON or YAML, the same validation and messages), for budgets. */
export function loadWorkloads(path: string): WorkloadsConfig {
  return loadWorkloadsFile(path);
}
