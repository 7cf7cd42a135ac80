import { readFileSync } from 'node:fs';
import { formatFieldIssues, toFieldIssues, WorkloadsConfig, type WorkloadsConfigInput } from '@runflow-queue/shared';
import { parse as parseYaml } from 'yaml';

/**
 * Reads and validates the workloads file (JSON, or YAML by extension). Errors name the file and every
 * bad key path, e.g. `queues.1.budget.policy: "sometimes" — Invalid option; allowed: hold, fail`.
 */
export function loadWorkloadsFile(path: string): WorkloadsConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`WORKLOADS_FILE=${path}: cannot read it (${(error as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new Error(
      `WORKLOADS_FILE=${path}: not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(error as Error).message}`,
    );
  }
  return parseWorkloads(raw, `WORKLOADS_FILE=${path}`);
}

export function parseWorkloads(raw: unknown, source = 'workloads'): WorkloadsConfig {
  const result = WorkloadsConfig.safeParse(raw);
  if (result.success) return result.data;
  throw new Error(`${source} is invalid:\n${formatFieldIssues(toFieldIssues(result.error, raw))}`);
}

/** Without a workloads file: one entry per queue name, with the given defaults. */
export function workloadsFromQueues(
  queues: readonly string[],
  defaults: { concurrency?: number; deadlineMs?: number; requestsPerSecond?: number; burst?: number } = {},
): WorkloadsConfig {
  const input: WorkloadsConfigInput = {
    rateLimit: { requestsPerSecond: defaults.requestsPerSecond ?? 20, burst: defaults.burst ?? 20 },
    queues: queues.map((name) => ({ name, concurrency: defaults.concurrency, deadlineMs: defaults.deadlineMs })),
  };
  return parseWorkloads(JSON.parse(JSON.stringify(input)));
}
