import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mustRun } from '../containers/run-command.ts';
import { summarizeRuleTests } from './rule-tests.ts';

// `pnpm promtool`: infra/prometheus through the real promtool — check config, check rules, and the
// unit tests of every alert (alerts.test.yml) — then one table. Exits 1 on any failure, and when an
// alert lacks a firing or a quiet case. promtool is Debian's `prometheus` package (.ci/run installs it).

const dir = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'infra/prometheus');
const steps: [string, string[]][] = [
  ['check config', ['check', 'config', 'prometheus.yml']],
  ['check rules', ['check', 'rules', 'alerts.yml']],
  ['test rules', ['test', 'rules', 'alerts.test.yml']],
];

const rows: [string, string, string][] = [];
let failed = false;
const version = (await mustRun('promtool', ['--version'], { hint: 'apt-get install prometheus (as root)' })).split(
  '\n',
)[0];
for (const [name, args] of steps) {
  const started = Date.now();
  try {
    const out = await mustRun('promtool', args, { cwd: dir });
    const said = out
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('SUCCESS'))
      .join('; ');
    rows.push([`promtool ${name}`, said || 'SUCCESS', `${Date.now() - started} ms`]);
  } catch (error) {
    failed = true;
    rows.push([`promtool ${name}`, 'FAILED', `${Date.now() - started} ms`]);
    console.error((error as Error).message);
  }
}
const summary = summarizeRuleTests(join(dir, 'alerts.yml'), join(dir, 'alerts.test.yml'));
for (const c of summary.coverage) rows.push([`  ${c.alert}`, `fires in ${c.firing}, quiet in ${c.quiet}`, '']);
rows.push([
  'rule tests',
  `${summary.groups} test groups, ${summary.checks} alert checks, ${summary.coverage.length} alerts`,
  summary.gaps.length === 0 ? 'every alert fires and stays quiet' : 'GAPS',
]);
if (summary.gaps.length > 0) failed = true;

const width = [0, 1].map((c) => Math.max(...rows.map((row) => row[c].length)));
console.log(version);
for (const row of rows) console.log(`${row[0].padEnd(width[0])}  ${row[1].padEnd(width[1])}  ${row[2]}`.trimEnd());
for (const gap of summary.gaps) console.log(`gap: ${gap}`);
console.log(failed ? 'promtool: FAILED' : 'promtool: ok');
process.exitCode = failed ? 1 : 0;
