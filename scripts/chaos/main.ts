import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { planChaos, renderPlan } from './chaos-plan.ts';
import { renderReport } from './render-report.ts';
import { runChaos } from './run-chaos.ts';
import { spendScenarioMain } from './scenario-spend.ts';
import { pickScenario } from './scenarios.ts';

// `pnpm chaos [--jobs N] [--json PATH] [--idempotency honour|ignore] [--workers N] [--scenario NAME]`:
// a real fleet under a printed fault schedule, then one table and a verdict per invariant. Exits 0
// only when all hold. A scenario (scenario-<name>.ts) adds its own faults and verdicts.

const usage = `usage: pnpm chaos [--jobs N (default 2000)] [--json PATH] [--idempotency honour|ignore] [--workers N]
                  [--scenario trouble [--outage-ms MS (300000)] [--credit-ms MS (120000)] [--oom-ms MS (60000)] [--capped-ms MS (60000)]]
       pnpm chaos --scenario spend [--jobs N] [--json PATH] [--workers N]   (spend follows Runflow; see README)

Spawns redis-server (AOF), callback-ingest and N workers, runs the simulator in this process, and
breaks things on a schedule printed at the start. Logs of every process go to a temp directory.`;

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    jobs: { type: 'string', default: '2000' },
    json: { type: 'string' },
    idempotency: { type: 'string', default: 'honour' },
    workers: { type: 'string' },
    scenario: { type: 'string' },
    'outage-ms': { type: 'string' },
    'credit-ms': { type: 'string' },
    'oom-ms': { type: 'string' },
    'capped-ms': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const jobs = Number(values.jobs);
const idempotency = values.idempotency;
const workers = values.workers === undefined ? undefined : Number(values.workers);
if (!Number.isInteger(jobs) || jobs < 20 || (idempotency !== 'honour' && idempotency !== 'ignore')) {
  console.error(usage);
  process.exit(2);
}
if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) {
  console.error(usage);
  process.exit(2);
}

if (values.scenario === 'spend') {
  const logDir = mkdtempSync(join(tmpdir(), 'rfq-chaos-spend-'));
  const log = (line: string) => process.stderr.write(`chaos: ${line}\n`);
  process.exit(
    await spendScenarioMain({ jobs, workers, json: values.json, logDir, log }).catch((error: unknown) => {
      console.error(`chaos failed: ${(error as Error).stack ?? error}`);
      return 1;
    }),
  );
}

let scenario: ReturnType<typeof pickScenario>;
try {
  scenario = pickScenario(values.scenario, { jobs, workers, values });
} catch (error) {
  console.error(`${(error as Error).message}\n\n${usage}`);
  process.exit(2);
}
const plan = scenario?.plan ?? planChaos({ jobs, idempotency, workers });
const logDir = mkdtempSync(join(tmpdir(), 'rfq-chaos-'));
console.log(`chaos: ${renderPlan(plan)}\n`);
const log = (line: string) => process.stderr.write(`chaos: ${line}\n`);

let exitCode = 1;
try {
  const report = await runChaos({ plan, logDir, log, scenario });
  console.log(`\n${renderReport(report)}\n`);
  if (values.json) {
    mkdirSync(dirname(values.json), { recursive: true });
    writeFileSync(
      values.json,
      `${JSON.stringify({ createdAt: new Date().toISOString(), plan, ...report }, null, 2)}\n`,
    );
    console.log(`report written to ${values.json}`);
  }
  console.log(report.ok ? 'OK: every invariant holds.' : 'FAILED: at least one invariant is violated (see above).');
  exitCode = report.ok ? 0 : 1;
} catch (error) {
  console.error(`chaos failed: ${(error as Error).stack ?? error}`);
}
process.exit(exitCode);
