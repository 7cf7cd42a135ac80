import { randomBytes } from 'node:crypto';
import { type Sim, startSim } from '@runflow-queue/runflow-sim';
import { type AppProcess, spawnApp } from '@runflow-queue/runtime';
import {
  freePort,
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
  uniquePrefix,
} from '@runflow-queue/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startReceiver, type WebhookReceiver } from '../caller/webhook-receiver.ts';
import { nb2Edit, SECRET, waitFor } from '../support/fleet.ts';

// One edit through three real processes — api, worker, callback-ingest, spawned as in production —
// against the simulator and the run's Redis, each exporting OTLP/HTTP JSON to a real HTTP receiver
// in this test. The trace is read back from what the receiver decoded, never from an in-process hook.

const TOKEN = 'svc-trace-0123456789abcdef';
const NOTIFY_SECRET = 'whsec_trace_notify_secret_0123';
const SERVICES = { api: 'runflow-queue-api', worker: 'runflow-queue-worker', ingest: 'runflow-queue-callback-ingest' };

let receiver: OtlpReceiver;
let sim: Sim;
let api: AppProcess;
let worker: AppProcess;
let ingest: AppProcess;
let apiUrl: string;
let webhooks: WebhookReceiver;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  webhooks = await startReceiver(NOTIFY_SECRET);
  sim = await startSim({ latencyMs: { min: 50, max: 100 }, signingSecret: SECRET });
  const otel = {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    // Export every 100 ms (default 5 s); shutdown flushes the rest.
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
  const common = { REDIS_URL: inject('redisUrl'), REDIS_PREFIX: uniquePrefix('trace'), QUEUES: 'edits', ...otel };
  const ingestPort = await freePort();
  ingest = spawnApp('callback-ingest', {
    ...common,
    HOST: '127.0.0.1',
    PORT: String(ingestPort),
    CALLBACK_SECRETS: SECRET,
  });
  worker = spawnApp('worker', {
    ...common,
    RUNFLOW_BASE_URL: sim.url,
    RUNFLOW_API_KEY: sim.apiKey,
    CALLBACK_URL: `http://127.0.0.1:${ingestPort}/v1/callbacks/runflow`,
    // Long enough that the callback, not a poll, finalizes the job.
    FIRST_POLL_DELAY_MS: '20000',
    METRICS_PORT: '0',
    NOTIFY_SIGNING_SECRET: NOTIFY_SECRET,
    NOTIFY_ALLOW_HTTP_LOOPBACK: 'true',
  });
  api = spawnApp('api', {
    ...common,
    API_TOKENS: `traces:${TOKEN}`,
    HOST: '127.0.0.1',
    PORT: '0',
    NOTIFY_ALLOW_HTTP_LOOPBACK: 'true',
  });
  apiUrl = await waitFor(async () => /"address":"(http:\/\/[^"]+)"/.exec(api.output())?.[1], 20_000, 'api listening');
  await Promise.all([worker.waitFor('"worker started"'), ingest.waitFor('callback-ingest listening')]);
}, 60_000);

afterAll(async () => {
  await Promise.all([api, worker, ingest].map((app) => app?.stop()));
  await sim?.close();
  await webhooks?.close();
  await receiver?.close();
});

/** POSTs an edit as a caller inside its own trace (a W3C traceparent), and waits for its end state. */
async function editInCallerTrace(
  extra: Record<string, unknown> = {},
): Promise<{ traceId: string; callerSpanId: string; jobId: string; job: JobView }> {
  const traceId = randomBytes(16).toString('hex');
  const callerSpanId = randomBytes(8).toString('hex');
  const created = await fetch(`${apiUrl}/v1/edits`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
      traceparent: `00-${traceId}-${callerSpanId}-01`,
    },
    body: JSON.stringify({ ...nb2Edit(), ...extra }),
  });
  expect(created.status).toBe(202);
  const { id: jobId } = (await created.json()) as { id: string };
  const job = await waitFor(
    async () => {
      const status = (await (
        await fetch(`${apiUrl}/v1/edits/${jobId}?queue=edits`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json()) as JobView;
      return status.state === 'completed' || status.state === 'failed' ? status : undefined;
    },
    20_000,
    `job ${jobId} finished`,
  );
  return { traceId, callerSpanId, jobId, job };
}

interface JobView {
  state: string;
  runId?: string;
  result?: { runId: string; costMicroUsd: number; completedBy: string };
  failedReason?: string;
  code?: string;
}

/** Waits until every span `expected` names has arrived for the trace (they come in batches, from three processes). */
function spansOfTrace(traceId: string, expected: [service: string, name: string][]): Promise<ReceivedSpan[]> {
  return waitFor(
    async () => {
      const spans = receiver.spans().filter((span) => span.traceId === traceId);
      return expected.every(([service, name]) => spans.some((s) => s.service === service && s.name === name))
        ? spans
        : undefined;
    },
    15_000,
    `spans ${expected.map(([s, n]) => `${s}/${n}`).join(', ')} of trace ${traceId}`,
  );
}

/** The trace as an indented tree (service, name, and the attributes that identify the job). */
function renderTree(spans: ReceivedSpan[]): string {
  const ids = new Set(spans.map((s) => s.spanId));
  const lines: string[] = [];
  const walk = (parent: string, depth: number) => {
    const children = spans
      .filter((s) => (parent === '' ? !ids.has(s.parentSpanId) : s.parentSpanId === parent))
      .sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1));
    for (const span of children) {
      const shown = ['rfq.parkReason', 'rfq.completedBy', 'rfq.costMicroUsd', 'error.type']
        .filter((key) => span.attributes[key] !== undefined)
        .map((key) => `${key}=${span.attributes[key]}`);
      lines.push(`${'  '.repeat(depth)}${span.service.replace('runflow-queue-', '')}: ${span.name} ${shown.join(' ')}`);
      walk(span.spanId, depth + 1);
    }
  };
  walk('', 0);
  return lines.join('\n');
}

/** The one span of the trace with this service and name (fails naming what the trace holds). */
function only(spans: ReceivedSpan[], service: string, name: string): ReceivedSpan {
  const found = spans.filter((s) => s.service === service && s.name === name);
  expect(
    found.map((s) => `${s.service}/${s.name}`),
    renderTree(spans),
  ).toEqual([`${service}/${name}`]);
  return found[0];
}

function parentOf(spans: ReceivedSpan[], span: ReceivedSpan): ReceivedSpan | undefined {
  return spans.find((s) => s.spanId === span.parentSpanId);
}

const JOB_SPANS: [string, string][] = [
  [SERVICES.api, 'enqueue'],
  [SERVICES.worker, 'admit'],
  [SERVICES.worker, 'submit'],
  [SERVICES.worker, 'parked'],
  [SERVICES.ingest, 'callback received'],
  [SERVICES.worker, 'finalize'],
  [SERVICES.worker, 'settle'],
  [SERVICES.worker, 'complete edits'],
];

describe('tracing across api, worker and callback-ingest (OTLP/HTTP to a real receiver)', () => {
  it('one edit is one trace continuing the caller: enqueue → admit → submit → parked → callback → finalize → settle → webhook', async () => {
    const { traceId, callerSpanId, jobId, job } = await editInCallerTrace({ notifyUrl: `${webhooks.url}/hooks` });
    expect(job.state).toBe('completed');
    const result = job.result as NonNullable<JobView['result']>;
    const spans = await spansOfTrace(traceId, [...JOB_SPANS, [SERVICES.worker, 'notify webhook']]);
    const tree = renderTree(spans);
    expect(new Set(spans.map((s) => s.service)), tree).toEqual(new Set(Object.values(SERVICES)));

    // api: the HTTP request continues the caller's span; the enqueue is inside it; BullMQ's add below.
    const request = spans.find((s) => s.service === SERVICES.api && s.kind === 2) as ReceivedSpan;
    expect(request.parentSpanId, tree).toBe(callerSpanId);
    expect(request.attributes['http.response.status_code']).toBe(202);
    const enqueue = only(spans, SERVICES.api, 'enqueue');
    let ancestor = parentOf(spans, enqueue);
    while (ancestor && ancestor !== request) ancestor = parentOf(spans, ancestor);
    expect(ancestor, tree).toBe(request);
    expect(enqueue.attributes).toMatchObject({
      'rfq.queue': 'edits',
      'rfq.jobId': jobId,
      'rfq.model': nb2Edit().model,
    });
    const add = only(spans, SERVICES.api, 'add edits.edit');
    expect(add.parentSpanId).toBe(enqueue.spanId);

    // worker, first wake-up: admit and submit (with Runflow's POST under it) in one "process" span.
    const admit = only(spans, SERVICES.worker, 'admit');
    const submit = only(spans, SERVICES.worker, 'submit');
    const firstWake = parentOf(spans, admit) as ReceivedSpan;
    expect(firstWake.name).toBe('process edits');
    expect(firstWake.parentSpanId).toBe(add.spanId);
    expect(submit.parentSpanId).toBe(firstWake.spanId);
    const jobFields = { 'rfq.queue': 'edits', 'rfq.jobId': jobId, 'rfq.model': nb2Edit().model };
    expect(admit.attributes).toMatchObject(jobFields);
    expect(submit.attributes).toMatchObject({
      ...jobFields,
      'rfq.runId': result.runId,
      'rfq.parkReason': 'run submitted',
    });
    const post = spans.find((s) => s.parentSpanId === submit.spanId);
    expect(post?.kind, tree).toBe(3);
    expect(post?.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 201 });
    expect(String(post?.attributes['url.full'])).toContain(`${sim.url}/v1/models/`);

    // The park, the callback and the second wake-up hang off the context the job carries (the add).
    const parked = only(spans, SERVICES.worker, 'parked');
    expect(parked.parentSpanId).toBe(add.spanId);
    expect(parked.attributes).toMatchObject({
      ...jobFields,
      'rfq.parkReason': 'run submitted',
      'rfq.wokeBy': 'promoted',
    });
    const callback = only(spans, SERVICES.ingest, 'callback received');
    expect(callback.parentSpanId, tree).toBe(add.spanId);
    expect(callback.kind).toBe(2);
    expect(callback.attributes).toMatchObject({
      'rfq.queue': 'edits',
      'rfq.jobId': jobId,
      'rfq.runId': result.runId,
      'rfq.callbackResult': 'stored',
      'http.response.status_code': 200,
    });
    expect(callback.startTimeUnixNano).toBeGreaterThanOrEqual(submit.endTimeUnixNano - 5_000_000n);
    const finalize = only(spans, SERVICES.worker, 'finalize');
    const secondWake = parentOf(spans, finalize) as ReceivedSpan;
    expect(secondWake.name).toBe('process edits');
    expect(secondWake.spanId).not.toBe(firstWake.spanId);
    expect(secondWake.parentSpanId).toBe(add.spanId);
    expect(secondWake.startTimeUnixNano).toBeGreaterThanOrEqual(parked.endTimeUnixNano - 5_000_000n);
    expect(finalize.attributes).toMatchObject({
      ...jobFields,
      'rfq.runId': result.runId,
      'rfq.completedBy': 'callback',
      'rfq.costMicroUsd': result.costMicroUsd,
    });
    const settle = only(spans, SERVICES.worker, 'settle');
    expect(settle.parentSpanId).toBe(finalize.spanId);
    expect(settle.attributes).toMatchObject({ 'rfq.costMicroUsd': 80_000, 'rfq.settledNow': true });
    expect(
      spans.filter((s) => s.status.code === 2).map((s) => s.name),
      tree,
    ).toEqual([]);
  });

  it("a failed run's trace carries its code: finalize is an error with RUN_FAILED, the settle costs 0", async () => {
    sim.setFaults({ runFailed: 1 });
    try {
      const { traceId, job } = await editInCallerTrace();
      expect(job.state).toBe('failed');
      const spans = await spansOfTrace(traceId, [
        [SERVICES.ingest, 'callback received'],
        [SERVICES.worker, 'finalize'],
        [SERVICES.worker, 'settle'],
      ]);
      const tree = renderTree(spans);
      const finalize = only(spans, SERVICES.worker, 'finalize');
      expect(finalize.status.code, tree).toBe(2);
      expect(finalize.status.message).toMatch(/^RUN_FAILED: run \S+ ended failed/);
      expect(finalize.attributes).toMatchObject({ 'error.type': 'RUN_FAILED', 'rfq.errorCode': 'RUN_FAILED' });
      expect(finalize.events).toContainEqual(
        expect.objectContaining({
          name: 'exception',
          attributes: expect.objectContaining({ 'exception.type': 'RUN_FAILED' }),
        }),
      );
      const settle = only(spans, SERVICES.worker, 'settle');
      expect(settle.attributes).toMatchObject({ 'rfq.runStatus': 'failed', 'rfq.costMicroUsd': 0 });
      // The callback of a failed run is still a good callback: stored, no error on ingest's span.
      expect(only(spans, SERVICES.ingest, 'callback received').status.code).toBe(0);
    } finally {
      sim.clearFaults();
    }
  });

  it('a forged callback is a span of its own with its code; shutdown flushes what is left', async () => {
    const ingestUrl = /"address":"(http:\/\/[^"]+)"/.exec(ingest.output())?.[1];
    const forged = await fetch(`${ingestUrl}/v1/callbacks/runflow`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'runflow-signature': 'deadbeef' },
      body: JSON.stringify({ run_id: 'forged' }),
    });
    expect(forged.status).toBe(401);
    const refused = await waitFor(
      async () =>
        receiver
          .spans()
          .find((s) => s.service === SERVICES.ingest && s.attributes['error.type'] === 'CALLBACK_SIGNATURE_INVALID'),
      15_000,
      'the refused callback span',
    );
    expect(refused).toMatchObject({ name: 'callback received', parentSpanId: '', status: { code: 2 } });
    expect(refused.attributes['http.response.status_code']).toBe(401);

    // BullMQ's "close" span is made during SIGTERM: it reaches the receiver only if shutdown flushes.
    expect(await worker.stop()).toEqual({ code: 0, signal: null });
    expect(receiver.spans().some((s) => s.service === SERVICES.worker && s.name === 'close edits')).toBe(true);
  });

  it('a bad OTEL_TRACES_SAMPLER stops the boot with exit 78, naming the variable, its value and the choices', async () => {
    const bad = spawnApp('worker', { RUNFLOW_API_KEY: 'rf_live_x', OTEL_TRACES_SAMPLER: 'sometimes' });
    expect((await bad.exited).code).toBe(78);
    expect(bad.output()).toContain('OTEL_TRACES_SAMPLER="sometimes": use one of always_on');
    expect(bad.output()).toContain('parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG=0.1');
  });
});
