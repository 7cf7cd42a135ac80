import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '@runflow-queue/dashboard';
import { metricNamesOf, QUEUE_DEPTH_STATES } from '@runflow-queue/metrics';
import { signBody } from '@runflow-queue/runflow-sim';
import { parseWorkloads } from '@runflow-queue/runtime';
import { freePort } from '@runflow-queue/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, nb2Edit, proEdit, quietLogger, SECRET, startFleet, waitFor } from '../support/fleet.ts';
import { spawnWorker } from '../support/worker-process.ts';
import { declaredNames, has, total } from './prometheus-text.ts';

// Each app's /metrics, scraped over real sockets after real jobs: the names of packages/metrics'
// catalogue (the README's table), with values that agree with the ledger and the queues.

const workloadsInput = {
  rateLimit: { requestsPerSecond: 1_000, burst: 1_000 },
  queues: [
    { name: 'catalog', budget: { dailyUsd: 20, monthlyUsd: 300, policy: 'hold' as const } },
    { name: 'thumbs', models: ['google/nano-banana-2/edit' as const] },
  ],
};
const JOBS = 8;

let fleet: Fleet;
let worker: ReturnType<typeof spawnWorker>;
let metricsUrl: string;

async function scrape(target: string): Promise<string> {
  const response = await fetch(target);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

beforeAll(async () => {
  fleet = await startFleet({ queues: ['catalog', 'thumbs'], workers: false });
  const dir = mkdtempSync(join(tmpdir(), 'rfq-metrics-'));
  const workloadsFile = join(dir, 'workloads.json');
  writeFileSync(workloadsFile, JSON.stringify(workloadsInput));
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}`;
  worker = spawnWorker(fleet, {
    METRICS_PORT: String(port),
    WORKLOADS_FILE: workloadsFile,
    FIRST_POLL_DELAY_MS: '10000',
  });
  await waitFor(
    async () => (await fetch(`${metricsUrl}/healthz`).catch(() => undefined))?.ok,
    15_000,
    'worker /healthz',
  );
  await fleet.producer.enqueueEdits('catalog', [proEdit('a'), proEdit('b'), nb2Edit({ num_images: 2 })]);
  await fleet.producer.enqueueEdits('thumbs', [nb2Edit(), nb2Edit(), nb2Edit(), nb2Edit(), proEdit('refused')]);
  for (const [queue, n] of [
    ['catalog', 3],
    ['thumbs', 5],
  ] as const) {
    const q = fleet.producer.queue(queue);
    await waitFor(async () => (await q.getCompletedCount()) + (await q.getFailedCount()) === n, 30_000, queue);
  }
}, 90_000);

afterAll(async () => {
  await worker?.stop();
  await fleet?.close();
});

describe('/metrics of each app', () => {
  it('worker: serves its documented names on METRICS_PORT, with counts that match the jobs and the ledger', async () => {
    const text = await waitFor(
      async () => {
        const body = await scrape(`${metricsUrl}/metrics`);
        return total(body, 'rfq_jobs_total') === JOBS && total(body, 'rfq_callback_to_completion_seconds_count') === 7
          ? body
          : undefined;
      },
      15_000,
      'worker metrics',
    );
    const names = declaredNames(text);
    for (const name of metricNamesOf('worker')) expect(names, name).toContain(name);
    expect(names).toContain('process_cpu_seconds_total'); // default process metrics, in main.ts only
    expect(names).toContain('nodejs_eventloop_lag_seconds');

    expect(total(text, 'rfq_jobs_total', { outcome: 'completed' })).toBe(7);
    expect(
      total(text, 'rfq_jobs_total', {
        queue: 'thumbs',
        model: 'google/nano-banana-pro/edit',
        outcome: 'failed',
        code: 'MODEL_NOT_ALLOWED',
      }),
    ).toBe(1);
    const ledger = await fleet.ledger.rows(['catalog', 'thumbs']);
    for (const queue of ['catalog', 'thumbs']) {
      for (const model of ['google/nano-banana-pro/edit', 'google/nano-banana-2/edit']) {
        const spent = ledger
          .filter((r) => r.queue === queue && r.model === model)
          .reduce((s, r) => s + r.spendMicroUsd, 0);
        expect(total(text, 'rfq_spend_micro_usd_total', { queue, model }), `${queue} ${model}`).toBe(spent);
      }
    }
    expect(total(text, 'rfq_job_completions_total', { completed_by: 'callback' })).toBe(7);
    expect(total(text, 'rfq_run_duration_seconds_count')).toBe(7);
    expect(total(text, 'rfq_job_duration_seconds_count', { queue: 'catalog' })).toBe(3);
    expect(total(text, 'rfq_runflow_requests_total', { endpoint: 'createRun', outcome: 'ok' })).toBe(7);
    expect(total(text, 'rfq_runflow_request_duration_seconds_count', { endpoint: 'createRun' })).toBe(7);
    expect(total(text, 'rfq_rate_governor_decisions_total')).toBeGreaterThanOrEqual(7);
    expect(total(text, 'rfq_rate_governor_factor')).toBe(1);
    expect(has(text, 'rfq_rate_governor_penalties')).toBe(true);
    // Queue depth per state for every served queue (KEDA: waiting|prioritized|active), and the budget.
    for (const queue of ['catalog', 'thumbs'])
      for (const state of QUEUE_DEPTH_STATES)
        expect(has(text, 'rfq_queue_jobs', { queue, state }), `${queue} ${state}`).toBe(true);
    expect(total(text, 'rfq_budget_cap_micro_usd', { queue: 'catalog', window: 'day' })).toBe(20_000_000);
    expect(total(text, 'rfq_budget_cap_micro_usd', { queue: 'catalog', window: 'month' })).toBe(300_000_000);
    expect(total(text, 'rfq_budget_remaining_micro_usd', { queue: 'catalog', window: 'day' })).toBeLessThanOrEqual(
      20_000_000,
    );
    expect(has(text, 'rfq_budget_cap_micro_usd', { queue: 'thumbs' })).toBe(false);

    // /healthz answers from memory; anything else is a 404.
    expect(await (await fetch(`${metricsUrl}/healthz`)).json()).toEqual({ ok: true });
    expect((await fetch(`${metricsUrl}/nope`)).status).toBe(404);
  });

  it('worker: every job log line carries queue, jobId and model, and runId and clientRef once known; no secrets', async () => {
    const jobLogLines = () =>
      worker
        .output()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.jobId !== undefined);
    // The child's stdout reaches this process a little after the jobs complete.
    const jobLines = await waitFor(
      async () => {
        const lines = jobLogLines();
        return lines.filter((l) => l.msg === 'run finished').length >= 7 ? lines : undefined;
      },
      20_000,
      'run finished log lines',
    );
    expect(jobLines.length).toBeGreaterThanOrEqual(JOBS);
    for (const line of jobLines) {
      expect(line, String(line.msg)).toMatchObject({ queue: expect.any(String), model: expect.any(String) });
      if (line.msg === 'run submitted' || line.msg === 'run finished') {
        expect(line, String(line.msg)).toMatchObject({ runId: expect.any(String), clientRef: expect.any(String) });
      }
    }
    expect(jobLines.filter((l) => l.msg === 'run finished')).toHaveLength(7);
    const all = worker.output();
    expect(all).not.toContain(fleet.sim.apiKey);
    expect(all).not.toMatch(/authorization/i);
  });

  it('callback-ingest: serves its names; counts stored callbacks and each rejection by reason', async () => {
    const post = (body: string, signature?: string) =>
      fetch(fleet.callbackUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(signature ? { 'runflow-signature': signature } : {}) },
        body,
      });
    expect((await post('{"run_id":"r"}')).status).toBe(401);
    expect((await post('{"run_id":"r"}', 'f'.repeat(64))).status).toBe(401);
    expect((await post('{not json', signBody(SECRET, '{not json'))).status).toBe(400);
    expect(
      (await fetch(fleet.callbackUrl, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })).status,
    ).toBe(415);

    const text = await scrape(`${fleet.ingestUrl}/metrics`);
    const names = declaredNames(text);
    for (const name of metricNamesOf('callback-ingest')) expect(names, name).toContain(name);
    const inbox = await Promise.all(['catalog', 'thumbs'].map((q) => fleet.inbox.counters(q)));
    const received = inbox.reduce((s, c) => s + c.received, 0);
    const duplicate = inbox.reduce((s, c) => s + c.duplicate, 0);
    expect(received).toBe(7);
    expect(total(text, 'rfq_callbacks_total', { result: 'stored' })).toBe(received - duplicate);
    expect(total(text, 'rfq_callbacks_total', { result: 'duplicate' })).toBe(duplicate);
    expect(total(text, 'rfq_callback_store_seconds_count')).toBe(received);
    for (const reason of [
      'CALLBACK_SIGNATURE_MISSING',
      'CALLBACK_SIGNATURE_INVALID',
      'CALLBACK_MALFORMED_JSON',
      'CALLBACK_UNSUPPORTED_MEDIA_TYPE',
    ]) {
      expect(total(text, 'rfq_callbacks_rejected_total', { reason }), reason).toBe(1);
    }
  });

  it('dashboard: serves its names without credentials, with depth per state and the ledger’s spend', async () => {
    const dashboard = buildApp({
      redis: fleet.redis,
      prefix: fleet.prefix,
      queues: fleet.queues,
      auth: { user: 'admin', password: 'password123' },
      workloads: parseWorkloads(workloadsInput),
      logger: quietLogger,
      collectIntervalMs: 100,
    });
    try {
      const url = await dashboard.listen({ host: '127.0.0.1', port: 0 });
      const ledger = await fleet.ledger.rows(['catalog', 'thumbs']);
      const spent = (queue: string) => ledger.filter((r) => r.queue === queue).reduce((s, r) => s + r.spendMicroUsd, 0);
      const text = await waitFor(
        async () => {
          const body = await scrape(`${url}/metrics`);
          return has(body, 'rfq_ledger_spend_micro_usd', { queue: 'thumbs', window: 'day' }) ? body : undefined;
        },
        10_000,
        'dashboard collection',
      );
      const names = declaredNames(text);
      for (const name of metricNamesOf('dashboard')) expect(names, name).toContain(name);
      for (const queue of ['catalog', 'thumbs']) {
        for (const state of QUEUE_DEPTH_STATES) expect(total(text, 'rfq_queue_jobs', { queue, state })).toBe(0);
        expect(total(text, 'rfq_ledger_spend_micro_usd', { queue, window: 'day' })).toBe(spent(queue));
        expect(total(text, 'rfq_ledger_spend_micro_usd', { queue, window: 'month' })).toBe(spent(queue));
      }
      expect(total(text, 'rfq_budget_remaining_micro_usd', { queue: 'catalog', window: 'day' })).toBe(
        20_000_000 - spent('catalog'),
      );
    } finally {
      await dashboard.close();
    }
  });

  it('README documents exactly the catalogue’s metrics', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const documented = new Set([...readme.matchAll(/^\| `(rfq_[a-z_]+)`/gm)].map((m) => m[1]));
    const catalogue = new Set([
      ...metricNamesOf('worker'),
      ...metricNamesOf('callback-ingest'),
      ...metricNamesOf('dashboard'),
    ]);
    expect([...documented].sort()).toEqual([...catalogue].sort());
  });

  it('worker: stops on SIGTERM with exit code 0, metrics listener closed last', async () => {
    expect((await worker.stop()).code).toBe(0);
    await expect(fetch(`${metricsUrl}/healthz`)).rejects.toThrow();
  });
});
