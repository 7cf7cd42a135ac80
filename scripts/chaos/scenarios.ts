import type { ChaosScenario } from './chaos-scenario.ts';
import { troubleScenario } from './scenario-trouble.ts';

// `--scenario NAME` → its scenario; undefined: today's run. Flags a scenario reads are its own.
// (`--scenario spend` runs its own main: scenario-spend.ts, dispatched in main.ts.)

type Flags = Record<string, string | boolean | undefined>;

function msFlag(values: Flags, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 1_000) {
    throw new Error(`--${name} must be a whole number of milliseconds, at least 1000; got ${JSON.stringify(raw)}`);
  }
  return ms;
}

export function pickScenario(
  name: string | undefined,
  options: { jobs: number; workers: number | undefined; values: Flags },
): ChaosScenario | undefined {
  if (name === undefined || name === 'default') return undefined;
  if (name === 'trouble') {
    return troubleScenario({
      jobs: options.jobs,
      workers: options.workers,
      outageMs: msFlag(options.values, 'outage-ms'),
      creditHoldMs: msFlag(options.values, 'credit-ms'),
      redisOomMs: msFlag(options.values, 'oom-ms'),
      cappedMs: msFlag(options.values, 'capped-ms'),
    });
  }
  throw new Error(`--scenario must be one of: default, trouble, spend; got ${JSON.stringify(name)}`);
}
