import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatTable } from '@runflow-queue/shared';

// `node bench/tools/profile-summary.ts FILE.cpuprofile [--top N]`: where a process's CPU went, from a
// V8 CPU profile (`BENCH_CPU_PROF=DIR pnpm bench pipeline` writes one per worker and ingest): self
// time by function, and by package (node_modules/<name>, our packages and apps, node internals).

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  options: { top: { type: 'string', default: '25' } },
  allowPositionals: true,
});
if (positionals.length !== 1) {
  console.error('usage: node bench/tools/profile-summary.ts FILE.cpuprofile [--top N]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(positionals[0], 'utf8')) as {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
};
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

const packageOf = (url: string): string => {
  if (!url) return '(native / idle / gc)';
  const modules = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1];
  const ours = /\/(packages|apps)\/([^/]+)\//.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  return url.startsWith('node:') ? 'node' : url;
};

const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
let total = 0;
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (!node) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const name = `${functionName || '(anonymous)'} ${url ? `${url.split('/').slice(-2).join('/')}:${lineNumber + 1}` : ''}`;
  if (functionName === '(idle)' || functionName === '(program)') continue;
  total += us;
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  const pkg = functionName === '(garbage collector)' ? '(gc)' : packageOf(url);
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
}
const top = Number(values.top);
const table = (entries: Map<string, number>) =>
  formatTable(
    ['where', 'self ms', '%'],
    [...entries]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => [name, (us / 1000).toFixed(0), ((100 * us) / total).toFixed(1)]),
  );
console.log(
  `busy (not idle/program): ${(total / 1000).toFixed(0)} ms\n\nby package\n${table(byPackage)}\n\nby function\n${table(byFunction)}`,
);
