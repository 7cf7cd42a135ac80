import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatTable } from '@runflow-queue/shared';
import { startRedis } from '@runflow-queue/testkit';
import type { ScenarioReport } from './scenario.ts';
import { SCENARIOS } from './scenarios/index.ts';
import { machineInfo } from './support/machine.ts';

// `pnpm bench <scenario…|all> [--json PATH]`: runs scenarios against real processes, prints a table per
// scenario and writes every report to PATH as JSON. Benchmarks are not tests: they measure.

const usage = `usage: pnpm bench <scenario…|all> [--json PATH]

scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(18)}${s.description}`).join('\n')}

Redis: REDIS_URL if set, else a redis-server spawned on a free port. Logs of the spawned apps go to a
temp directory printed at the start.`;

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  options: { json: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  allowPositionals: true,
});
if (values.help || positionals.length === 0) {
  console.log(usage);
  process.exit(values.help ? 0 : 2);
}
const names = positionals.includes('all') ? SCENARIOS.map((s) => s.name) : positionals;
const unknown = names.filter((name) => !SCENARIOS.some((s) => s.name === name));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}\n\n${usage}`);
  process.exit(2);
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/**
 * The memory settings of the production Redis config (infra/redis/redis.conf), for a spawned
 * redis-server: the bench measures memory as production would keep it. Durability settings stay off.
 */
function redisConfArgs(): string[] {
  const conf = readFileSync(new URL('../infra/redis/redis.conf', import.meta.url), 'utf8');
  return conf
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([name]) => name?.startsWith('hash-max-') || name?.startsWith('zset-max-') || name === 'maxmemory-policy')
    .flatMap(([name, value]) => [`--${name}`, value]);
}
const machine = machineInfo();
const logDir = mkdtempSync(join(tmpdir(), 'rfq-bench-'));
const redis = await startRedis({ args: redisConfArgs() });
log(`bench: redis ${redis.url} (${redis.source}); logs in ${logDir}`);
log(`bench: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, node ${machine.node}`);

const reports: ({ name: string; description: string } & ScenarioReport)[] = [];
let failed = false;
try {
  for (const name of names) {
    const scenario = SCENARIOS.find((s) => s.name === name);
    if (!scenario) continue;
    const started = performance.now();
    const report = await scenario.run({ redis, logDir, machine, log });
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    reports.push({ name, description: scenario.description, ...report });
    console.log(`\n## ${name}: ${scenario.description} (${seconds} s)\n`);
    console.log(
      formatTable(
        report.columns.map((c) => c.header),
        report.rows.map((row) => report.columns.map((c) => row[c.key] ?? '—')),
      ),
    );
    if (report.notes?.length) console.log(`\n${report.notes.join('\n')}`);
    if (report.problems?.length) {
      failed = true;
      console.log(`\nINVALID RUN:\n${report.problems.map((p) => `  ${p}`).join('\n')}`);
    }
  }
} catch (error) {
  failed = true;
  console.error(`bench failed: ${(error as Error).stack ?? error}`);
} finally {
  await redis.stop();
}

if (values.json) {
  mkdirSync(dirname(values.json), { recursive: true });
  const document = { createdAt: new Date().toISOString(), machine, scenarios: reports };
  writeFileSync(values.json, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`\nreport written to ${values.json}`);
}
process.exit(failed ? 1 : 0);
