import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

// What infra/prometheus/alerts.test.yml covers: for each alert in alerts.yml, how many of promtool's
// alert checks expect it to fire and how many expect it quiet. An alert without both is untested.

interface AlertRuleTest {
  alertname: string;
  eval_time: string;
  exp_alerts?: unknown[];
}
interface RuleTestFile {
  rule_files: string[];
  tests: { name: string; alert_rule_test?: AlertRuleTest[] }[];
}
interface RulesFile {
  groups: { name: string; rules: { alert?: string; record?: string }[] }[];
}

export interface AlertCoverage {
  alert: string;
  firing: number;
  quiet: number;
}

export interface RuleTestSummary {
  groups: number;
  checks: number;
  coverage: AlertCoverage[];
  /** Alerts without a firing or a quiet case, and checks naming an alert alerts.yml lacks. */
  gaps: string[];
}

export function alertNames(rulesPath: string): string[] {
  const rules = parse(readFileSync(rulesPath, 'utf8')) as RulesFile;
  return rules.groups.flatMap((group) => group.rules.flatMap((rule) => (rule.alert ? [rule.alert] : [])));
}

export function summarizeRuleTests(rulesPath: string, testsPath: string): RuleTestSummary {
  const alerts = alertNames(rulesPath);
  const file = parse(readFileSync(testsPath, 'utf8')) as RuleTestFile;
  const checks = file.tests.flatMap((test) => test.alert_rule_test ?? []);
  const coverage = alerts.map((alert) => {
    const mine = checks.filter((check) => check.alertname === alert);
    return {
      alert,
      firing: mine.filter((check) => (check.exp_alerts ?? []).length > 0).length,
      quiet: mine.filter((check) => (check.exp_alerts ?? []).length === 0).length,
    };
  });
  const gaps = [
    ...coverage.filter((c) => c.firing === 0).map((c) => `${c.alert}: no case where it fires`),
    ...coverage.filter((c) => c.quiet === 0).map((c) => `${c.alert}: no case where it stays quiet`),
    ...[...new Set(checks.map((c) => c.alertname))]
      .filter((name) => !alerts.includes(name))
      .map((name) => `${name}: tested, but alerts.yml has no such alert`),
  ];
  return { groups: file.tests.length, checks: checks.length, coverage, gaps };
}
