import { readFileSync } from 'node:fs';
import { METRIC_CATALOG } from '@runflow-queue/metrics';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The Grafana dashboard and the alert rules query only metrics that exist (packages/metrics'
// catalogue, plus Prometheus' own `up`), so renaming a metric breaks this test, not a page at 3 a.m.

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

function knownSeries(): Set<string> {
  const names = new Set(['up']);
  for (const m of Object.values(METRIC_CATALOG)) {
    if (m.type === 'histogram') for (const suffix of HISTOGRAM_SUFFIXES) names.add(`${m.name}${suffix}`);
    else names.add(m.name);
  }
  return names;
}

/** Metric names a PromQL expression selects (identifiers followed by `{` or `[`, or standing alone as rfq_*). */
function seriesIn(expr: string): string[] {
  return [...expr.matchAll(/\b(rfq_[a-z0-9_]+|up)\b(?=\s*[{[),\s]|$)/g)].map((m) => m[1]);
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string }[];
  gridPos: { x: number; y: number; w: number; h: number };
}

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(read('infra/grafana/dashboards/runflow-queue.json')) as {
    uid: string;
    panels: Panel[];
    templating: { list: { query: { query: string } }[] };
  };

  it('queries only catalogue metrics through the provisioned Prometheus data source', () => {
    const known = knownSeries();
    const used = new Set<string>();
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource?.uid, panel.title).toBe('prometheus');
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        const series = seriesIn(target.expr);
        expect(series.length, target.expr).toBeGreaterThan(0);
        for (const name of series) {
          expect(known, `${panel.title}: ${name}`).toContain(name);
          used.add(name.replace(/_(bucket|sum|count)$/, ''));
        }
      }
    }
    // The operator's questions: depth, throughput, spend, budget, latency, Runflow, governor, callbacks.
    for (const name of [
      'rfq_queue_jobs',
      'rfq_jobs_total',
      'rfq_ledger_spend_micro_usd',
      'rfq_budget_remaining_micro_usd',
      'rfq_run_duration_seconds',
      'rfq_runflow_requests_total',
      'rfq_rate_governor_factor',
      'rfq_callbacks_rejected_total',
      'rfq_job_completions_total',
    ]) {
      expect(used, name).toContain(name);
    }
    expect(seriesIn(dashboard.templating.list[0].query.query)).toEqual(['rfq_queue_jobs']);
  });

  it('has unique panel ids and a layout inside Grafana’s 24 columns', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    expect(dashboard.uid).toBe('runflow-queue');
  });
});

describe('Prometheus alerts', () => {
  const rules = (
    parse(read('infra/prometheus/alerts.yml')) as { groups: { rules: { alert: string; expr: string }[] }[] }
  ).groups.flatMap((g) => g.rules);

  it('alert only on catalogue metrics, each rule with a severity and a summary', () => {
    const known = knownSeries();
    expect(rules.length).toBeGreaterThanOrEqual(8);
    for (const rule of rules) {
      const series = seriesIn(rule.expr);
      expect(series.length, rule.alert).toBeGreaterThan(0);
      for (const name of series) expect(known, `${rule.alert}: ${name}`).toContain(name);
    }
  });

  it('count prioritized jobs as waiting (the producer enqueues with a priority)', () => {
    for (const rule of rules.filter((r) => /state=~?"waiting/.test(r.expr))) {
      expect(rule.expr, rule.alert).toMatch(/state=~"waiting\|prioritized"/);
    }
  });
});
