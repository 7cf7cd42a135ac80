import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { summarizeRuleTests } from '../../scripts/prometheus/rule-tests.ts';
import { readText } from './compose-file.ts';

const prometheus = (file: string) => fileURLToPath(new URL(`../../infra/prometheus/${file}`, import.meta.url));

// promtool itself runs in `pnpm promtool` (CI); this checks, without it, that its tests cover every alert.
describe('infra/prometheus', () => {
  it('has a promtool case where each alert fires and one where it stays quiet', () => {
    const summary = summarizeRuleTests(prometheus('alerts.yml'), prometheus('alerts.test.yml'));
    expect(summary.coverage.length).toBeGreaterThan(0);
    expect(summary.gaps).toEqual([]);
  });

  it('names its rule file relative to itself, so the container and promtool both find it', () => {
    const config = parse(readText('infra/prometheus/prometheus.yml')) as { rule_files: string[] };
    expect(config.rule_files).toEqual(['alerts.yml']);
  });
});
