import { describe, expect, it } from 'vitest';
import { createDashboardMetrics, createIngestMetrics, createWorkerMetrics } from './create-metrics.ts';
import { METRIC_CATALOG, metricNamesOf } from './metric-catalog.ts';
import { startMetricsServer } from './metrics-server.ts';
import { startPeriodicCollector } from './periodic-collector.ts';
import { readQueueDepth, setQueueDepth } from './queue-depth.ts';

const silent = { warn() {}, error() {} };
const declared = (text: string) => [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]).sort();

describe('metric catalogue', () => {
  it('names every metric rfq_*, in Prometheus syntax, counters ending in _total and units in the name', () => {
    const names = Object.values(METRIC_CATALOG).map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const m of Object.values(METRIC_CATALOG)) {
      expect(m.name).toMatch(/^rfq_[a-z][a-z0-9_]*$/);
      if (m.type === 'counter') expect(m.name, m.name).toMatch(/_total$/);
      else expect(m.name, m.name).not.toMatch(/_total$/);
      if (m.type === 'histogram') expect(m.name, m.name).toMatch(/_seconds$/);
      if (/usd/.test(m.name)) expect(m.name, m.name).toMatch(/_micro_usd(_total)?$/);
      expect(m.apps.length, m.name).toBeGreaterThan(0);
    }
  });

  it('gives each app a registry of exactly its metrics, empty of process metrics unless asked', async () => {
    expect(declared(await createWorkerMetrics().registry.metrics())).toEqual(metricNamesOf('worker').sort());
    expect(declared(await createIngestMetrics().registry.metrics())).toEqual(metricNamesOf('callback-ingest').sort());
    expect(declared(await createDashboardMetrics().registry.metrics())).toEqual(metricNamesOf('dashboard').sort());
    const withProcess = await createIngestMetrics({ defaultMetrics: true }).registry.metrics();
    expect(withProcess).toContain('# TYPE process_cpu_seconds_total counter');
  });

  it('keeps registries apart (never prom-client’s global one)', async () => {
    const a = createWorkerMetrics();
    const b = createWorkerMetrics();
    a.jobs.inc({ queue: 'q', model: 'm', outcome: 'completed', code: '' });
    expect(await a.registry.metrics()).toContain('rfq_jobs_total{queue="q",model="m",outcome="completed",code=""} 1');
    expect(await b.registry.metrics()).not.toContain('queue="q"');
  });
});

describe('queue depth', () => {
  it('reads BullMQ counts in one call and exports delayed jobs as parked', async () => {
    const asked: string[][] = [];
    const depth = await readQueueDepth({
      async getJobCounts(...types: string[]) {
        asked.push(types);
        return { waiting: 3, prioritized: 7, active: 2, delayed: 40 };
      },
    });
    expect(asked).toEqual([['waiting', 'prioritized', 'active', 'delayed']]);
    expect(depth).toEqual({ waiting: 3, prioritized: 7, active: 2, parked: 40 });
    const metrics = createDashboardMetrics();
    setQueueDepth(metrics.queueJobs, 'edits', depth);
    const text = await metrics.registry.metrics();
    expect(text).toContain('rfq_queue_jobs{queue="edits",state="parked"} 40');
    expect(text).toContain('rfq_queue_jobs{queue="edits",state="prioritized"} 7');
  });
});

describe('periodic collector', () => {
  it('collects at once and then on its timer, never two at a time, and stops cleanly', async () => {
    let running = 0;
    let overlapped = false;
    let runs = 0;
    const collector = startPeriodicCollector({
      intervalMs: 5,
      onError: () => {},
      collect: async () => {
        running += 1;
        if (running > 1) overlapped = true;
        runs += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
        running -= 1;
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 120));
    await collector.stop();
    const after = runs;
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(runs).toBe(after);
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(overlapped).toBe(false);
  });

  it('reports a failed collection and keeps going', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const collector = startPeriodicCollector({
      intervalMs: 5,
      onError: (error) => errors.push(error),
      collect: async () => {
        calls += 1;
        if (calls === 1) throw new Error('redis away');
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 40));
    await collector.stop();
    expect(errors).toHaveLength(1);
    expect(calls).toBeGreaterThan(1);
  });
});

describe('metrics server', () => {
  it('serves /metrics and /healthz, 404 elsewhere, 405 for writes', async () => {
    const metrics = createWorkerMetrics();
    metrics.governorFactor.set(0.5);
    const server = await startMetricsServer({ port: 0, host: '127.0.0.1', registry: metrics.registry, logger: silent });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const scrape = await fetch(`${base}/metrics`);
      expect(scrape.status).toBe(200);
      expect(scrape.headers.get('content-type')).toContain('text/plain');
      expect(await scrape.text()).toContain('rfq_rate_governor_factor 0.5');
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ ok: true });
      expect((await fetch(`${base}/`)).status).toBe(404);
      expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('rejects when the port is taken, so the caller decides', async () => {
    const metrics = createWorkerMetrics();
    const first = await startMetricsServer({ port: 0, host: '127.0.0.1', registry: metrics.registry, logger: silent });
    try {
      await expect(
        startMetricsServer({ port: first.port, host: '127.0.0.1', registry: metrics.registry, logger: silent }),
      ).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});
