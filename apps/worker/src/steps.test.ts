import { RunflowApiError, type RunflowErrorKind } from '@runflow-queue/runflow-client';
import {
  type CallbackPayload,
  type EditJobData,
  type QueuedJobData,
  type Run,
  type SubmittedJobData,
  type SubmittingJobData,
  WorkloadsConfig,
} from '@runflow-queue/shared';
import type { Settlement } from '@runflow-queue/store';
import { DelayedError, UnrecoverableError } from 'bullmq';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { HoldsView, SubmitHold } from './holds-monitor.ts';
import { DEFAULT_LIFECYCLE } from './lifecycle-config.ts';
import { isTroubleNotTheJobs } from './park-after-trouble.ts';
import { attemptOutcome } from './process-edit-job.ts';
import { runStep } from './run-steps.ts';
import type { StepContext, StepDeps } from './step-context.ts';

// The worker's state machine, one transition at a time, on plain objects: each step's I/O (Runflow,
// inbox, ledger, governor, budgets) is a function of the context, so here it is a plain function that
// answers what the case needs and records what it was asked. The real ones run in the fleet tests.

const NOW = Date.parse('2026-12-02T10:00:00Z');
const PRO = 'google/nano-banana-pro/edit' as const;
const input = { prompt: 'a marble table', image_urls: ['https://cdn.example.com/a.jpg'] };

interface Calls {
  created: { clientRef: string; idempotencyKey: string | undefined }[];
  settled: Settlement[];
  penalized: number;
  reserved: number;
}

function runObject(id: string, status: string, extra: Partial<Run> = {}): Run {
  return { id, status_code: status, ...extra } as Run;
}

function apiError(kind: RunflowErrorKind, status: number | undefined, code: string): RunflowApiError {
  return new RunflowApiError(`${code} (test)`, { kind, endpoint: 'createRun', status, code, requestSent: true });
}

interface Fakes {
  create?: () => Promise<Run>;
  get?: () => Promise<Run>;
  find?: () => Promise<Run[]>;
  inbox?: Record<string, CallbackPayload>;
  refs?: Record<string, string>;
  slot?: { granted: true; delayMs: number } | { granted: false; waitMs: number };
  budget?: { dailyUsd: number; policy: 'hold' | 'fail' };
  budgetFull?: boolean;
  models?: (typeof PRO)[];
  holds?: HoldsView;
}

function context<D extends EditJobData>(data: D, fakes: Fakes = {}, entered = false) {
  const calls: Calls = { created: [], settled: [], penalized: 0, reserved: 0 };
  const workloads = WorkloadsConfig.parse({
    queues: [
      {
        name: 'catalog',
        ...(fakes.budget ? { budget: fakes.budget } : {}),
        ...(fakes.models ? { models: fakes.models } : {}),
      },
    ],
  });
  const deps: StepDeps = {
    queue: 'catalog',
    now: () => NOW,
    lifecycle: { ...DEFAULT_LIFECYCLE, callbackUrl: 'https://ingest.example.com/v1/callbacks/runflow' },
    client: {
      createRun: async (_model, body, options) => {
        calls.created.push({ clientRef: body.client_ref ?? '', idempotencyKey: options?.idempotencyKey });
        return (fakes.create ?? (async () => runObject('run-1', 'queued')))();
      },
      getRun: async () => (fakes.get ?? (async () => runObject('run-1', 'running')))(),
      findRunsByClientRef: async () => (fakes.find ?? (async () => []))(),
    },
    inbox: {
      read: async (_queue, runId) => {
        const payload = fakes.inbox?.[runId];
        return payload ? { receivedAt: NOW, payload } : undefined;
      },
      has: async (_queue, runId) => Boolean(fakes.inbox?.[runId]),
      runForClientRef: async (_queue, clientRef) => fakes.refs?.[clientRef],
    },
    ledger: {
      settle: async (settlement) => {
        calls.settled.push(settlement);
        return true;
      },
      settleWaste: async () => true,
    },
    governance: {
      workload: workloads.queues[0],
      governor: {
        acquire: async () => fakes.slot ?? { granted: true, delayMs: 0 },
        penalize: async () => {
          calls.penalized += 1;
          return 0.5;
        },
      },
      budgets: {
        reserve: async () => {
          calls.reserved += 1;
          return fakes.budgetFull
            ? { reserved: false, window: 'day', resetsAt: NOW + 3_600_000 }
            : { reserved: true, reservation: { amountMicroUsd: 150_000, day: '2026-12-02', month: '2026-12' } };
        },
        release: async () => 0,
      },
      inflight: {
        acquire: async () => true,
        release: async () => {},
        created: async () => {},
        limited: async () => ({ kind: 'rate', others: 0, learnedCap: undefined }),
      },
      modelCaps: {},
      rateLimitQueue: async () => {},
    },
    ...(fakes.holds ? { holds: fakes.holds } : {}),
  };
  const ctx: StepContext = { jobId: '42', data, entered, deps, log: pino({ level: 'silent' }) };
  return { ctx, calls };
}

const queued = (extra: Partial<QueuedJobData> = {}): QueuedJobData => ({
  model: PRO,
  input,
  enqueuedAt: NOW - 1_000,
  step: 'queued',
  ...extra,
});
const submitting = (extra: Partial<SubmittingJobData> = {}): SubmittingJobData => ({
  ...queued(),
  step: 'submitting',
  clientRef: 'rq_ref',
  ...extra,
});
const submitted = (extra: Partial<SubmittedJobData> = {}): SubmittedJobData => ({
  ...queued(),
  step: 'submitted',
  clientRef: 'rq_ref',
  runId: 'run-1',
  submittedAt: NOW - 5_000,
  deadlineAt: NOW + 60_000,
  ...extra,
});

function callback(runId: string, status: string, output: unknown = null): CallbackPayload {
  return {
    event: status === 'succeeded' ? 'run.completed' : 'run.failed',
    run_id: runId,
    status,
    output,
    duration_ms: 1_200,
    created_at: '2026-12-02T09:59:58+00:00',
    completed_at: '2026-12-02T09:59:59+00:00',
    metadata: null,
  } as CallbackPayload;
}

describe('step queued', () => {
  it('records the intent to submit with a fresh clientRef, and keeps one it already has', async () => {
    const fresh = await runStep(context(queued()).ctx);
    expect(fresh).toMatchObject({
      kind: 'next',
      data: { step: 'submitting', clientRef: expect.stringMatching(/^rq_/) },
    });
    const again = await runStep(context(queued({ clientRef: 'rq_kept', transientErrors: 2 })).ctx);
    expect(again).toMatchObject({
      kind: 'next',
      data: { step: 'submitting', clientRef: 'rq_kept', transientErrors: 2 },
    });
  });

  it('fails a cancelled job and a model the queue does not run, before any money moves', async () => {
    expect(await runStep(context(queued({ abandoned: true })).ctx)).toMatchObject({
      kind: 'fail',
      code: 'JOB_ABANDONED',
    });
    const other = context(queued(), { models: ['google/nano-banana-2/edit' as typeof PRO] });
    expect(await runStep(other.ctx)).toMatchObject({ kind: 'fail', code: 'MODEL_NOT_ALLOWED' });
    expect(other.calls.reserved).toBe(0);
  });

  it('reserves the budget, then parks with the reservation saved and the queue paused when no slot is near', async () => {
    const { ctx, calls } = context(queued(), {
      budget: { dailyUsd: 10, policy: 'hold' },
      slot: { granted: false, waitMs: 4_000 },
    });
    const t = await runStep(ctx);
    expect(t).toMatchObject({
      kind: 'park',
      wakeAt: NOW + 4_000,
      pauseQueueMs: 4_000,
      data: { step: 'queued', reservation: { amountMicroUsd: 150_000 } },
    });
    expect(calls.reserved).toBe(1);
  });

  it('holds a job until the next window when the budget is spent (hold), fails it (fail)', async () => {
    const hold = await runStep(context(queued(), { budget: { dailyUsd: 0.1, policy: 'hold' }, budgetFull: true }).ctx);
    expect(hold).toMatchObject({ kind: 'park', wakeAt: NOW + 3_600_000 });
    expect(hold).not.toHaveProperty('pauseQueueMs');
    const refuse = await runStep(
      context(queued(), { budget: { dailyUsd: 0.1, policy: 'fail' }, budgetFull: true }).ctx,
    );
    expect(refuse).toMatchObject({ kind: 'fail', code: 'BUDGET_EXCEEDED' });
  });
});

describe('step submitting, entered (the POST)', () => {
  it('sends the clientRef as client_ref and Idempotency-Key, then parks until the first poll with the run recorded', async () => {
    const { ctx, calls } = context(submitting(), {}, true);
    const t = await runStep(ctx);
    expect(calls.created).toEqual([{ clientRef: 'rq_ref', idempotencyKey: 'rq_ref' }]);
    expect(t).toMatchObject({
      kind: 'park',
      wakeAt: NOW + DEFAULT_LIFECYCLE.firstPollDelayMs,
      data: { step: 'submitted', runId: 'run-1', submittedAt: NOW, deadlineAt: NOW + 15 * 60_000, transientErrors: 0 },
    });
  });

  it('fails at once on a permanent error, with Runflow’s code', async () => {
    const create = async () => Promise.reject(apiError('permanent', 422, 'VALIDATION_ERROR'));
    expect(await runStep(context(submitting(), { create }, true).ctx)).toMatchObject({
      kind: 'fail',
      code: 'VALIDATION_ERROR',
    });
  });

  it('keeps step submitting after an ambiguous submit and waits out the grace period', async () => {
    const create = async () => Promise.reject(apiError('ambiguous', undefined, 'CONNECTION_RESET'));
    expect(await runStep(context(submitting(), { create }, true).ctx)).toMatchObject({
      kind: 'park',
      wakeAt: NOW + DEFAULT_LIFECYCLE.ambiguousGraceMs,
      data: { step: 'submitting', clientRef: 'rq_ref', ambiguousSince: NOW },
    });
  });

  it('goes back to queued on a retryable error (same clientRef), and fails after too many in a row', async () => {
    const create = async () => Promise.reject(apiError('retryable', 503, 'SERVER_ERROR'));
    const t = await runStep(context(submitting(), { create }, true).ctx);
    expect(t).toMatchObject({ kind: 'park', data: { step: 'queued', clientRef: 'rq_ref', transientErrors: 1 } });
    const last = submitting({ transientErrors: DEFAULT_LIFECYCLE.maxTransientErrors });
    expect(await runStep(context(last, { create }, true).ctx)).toMatchObject({
      kind: 'fail',
      code: 'RUNFLOW_RETRIES_EXHAUSTED',
    });
  });

  it('slows the fleet on a 429 and parks the job without counting it as an error', async () => {
    const create = async () => Promise.reject(apiError('retryable', 429, 'RATE_LIMITED'));
    const { ctx, calls } = context(submitting(), { create }, true);
    const t = await runStep(ctx);
    expect(calls.penalized).toBe(1);
    expect(t).toMatchObject({ kind: 'park', data: { step: 'queued', rateLimited: 1 } });
    expect(t.kind === 'park' && t.data?.transientErrors).toBeFalsy();
  });
});

describe('step submitting, found at dequeue (the POST may have reached Runflow)', () => {
  it('adopts the run its callback reported for the clientRef, without a second POST', async () => {
    const { ctx, calls } = context(submitting(), { refs: { rq_ref: 'run-7' } });
    const t = await runStep(ctx);
    expect(t).toMatchObject({ kind: 'next', data: { step: 'submitted', runId: 'run-7' } });
    expect(calls.created).toEqual([]);
  });

  it('waits out the grace period from the first time it is seen', async () => {
    expect(await runStep(context(submitting()).ctx)).toMatchObject({
      kind: 'park',
      wakeAt: NOW + DEFAULT_LIFECYCLE.ambiguousGraceMs,
      data: { ambiguousSince: NOW },
    });
  });

  it('after the grace period: adopts a run a look-up finds, else goes back to queued to resubmit with the same key', async () => {
    const late = submitting({ ambiguousSince: NOW - DEFAULT_LIFECYCLE.ambiguousGraceMs - 1 });
    const found = await runStep(context(late, { find: async () => [runObject('run-9', 'running')] }).ctx);
    expect(found).toMatchObject({ kind: 'next', data: { step: 'submitted', runId: 'run-9' } });
    const none = await runStep(context(late).ctx);
    expect(none).toMatchObject({ kind: 'next', data: { step: 'queued', clientRef: 'rq_ref', resubmits: 1 } });
    expect(none.kind === 'next' && none.data.ambiguousSince).toBeUndefined();
    const cancelled = await runStep(context({ ...late, abandoned: true }).ctx);
    expect(cancelled).toMatchObject({ kind: 'fail', code: 'JOB_ABANDONED' });
  });

  it('asks again later when the look-up itself fails, counting the failure', async () => {
    const late = submitting({ ambiguousSince: NOW - DEFAULT_LIFECYCLE.ambiguousGraceMs - 1 });
    const find = async () => Promise.reject(apiError('retryable', 503, 'SERVER_ERROR'));
    expect(await runStep(context(late, { find }).ctx)).toMatchObject({
      kind: 'park',
      data: { step: 'submitting', transientErrors: 1 },
    });
  });
});

describe('step submitted (finalize)', () => {
  const output = { outputs: [{ url: 'https://cdn.example.com/out.png', type: 'image' }] };

  it('completes from the inbox: settled once at the table price, with outputs and timings', async () => {
    const { ctx, calls } = context(submitted(), { inbox: { 'run-1': callback('run-1', 'succeeded', output) } });
    const t = await runStep(ctx);
    expect(t).toMatchObject({
      kind: 'complete',
      result: {
        runId: 'run-1',
        completedBy: 'callback',
        costMicroUsd: 150_000,
        outputs: [{ url: output.outputs[0].url }],
      },
    });
    expect(calls.settled).toHaveLength(1);
    expect(calls.settled[0]).toMatchObject({ runId: 'run-1', costMicroUsd: 150_000, outcome: 'completed' });
  });

  it('fails RUN_FAILED for a failed run, settled at zero', async () => {
    const { ctx, calls } = context(submitted(), { inbox: { 'run-1': callback('run-1', 'failed') } });
    expect(await runStep(ctx)).toMatchObject({ kind: 'fail', code: 'RUN_FAILED' });
    expect(calls.settled[0]).toMatchObject({ costMicroUsd: 0, outcome: 'failed' });
  });

  it('polls when no callback came: Runflow’s cost when given; still running → parks with backoff', async () => {
    const get = async () => runObject('run-1', 'succeeded', { output, cost: '0.14' } as Partial<Run>);
    expect(await runStep(context(submitted(), { get }).ctx)).toMatchObject({
      kind: 'complete',
      result: { completedBy: 'poll', costMicroUsd: 140_000 },
    });
    const running = await runStep(context(submitted()).ctx);
    expect(running).toMatchObject({ kind: 'park', data: { polls: 1 } });
    expect(running.kind === 'park' && running.wakeAt).toBeLessThanOrEqual(NOW + DEFAULT_LIFECYCLE.pollIntervalMs);
  });

  it('fails RUN_DEADLINE_EXCEEDED only after a final poll past the deadline', async () => {
    let polled = 0;
    const get = async () => {
      polled += 1;
      return runObject('run-1', 'running');
    };
    const t = await runStep(context(submitted({ deadlineAt: NOW - 1 }), { get }).ctx);
    expect(polled).toBe(1);
    expect(t).toMatchObject({ kind: 'fail', code: 'RUN_DEADLINE_EXCEEDED' });
  });

  it('stays parked when the poll slot is further out (no queue-wide pause)', async () => {
    const t = await runStep(context(submitted(), { slot: { granted: false, waitMs: 2_500 } }).ctx);
    expect(t).toEqual({ kind: 'park', wakeAt: NOW + 2_500, reason: 'poll slot' });
  });
});

/** A holds view with fixed answers, recording what the steps told it. */
function fakeHolds(state: { hold?: SubmitHold; breakerOpen?: boolean; openTotalMs?: number } = {}) {
  const told = { credit: [] as string[], observed: [] as (string | undefined)[], parked: [] as string[] };
  const holds: HoldsView = {
    submitHold: () => state.hold,
    breakerOpen: () => state.breakerOpen ?? false,
    breakerOpenTotalMs: () => state.openTotalMs ?? 0,
    recheckAt: (now) => now + 5_000,
    observe: async (error) => {
      told.observed.push(error?.code);
      return state.breakerOpen ?? false;
    },
    holdCredit: async (reason) => {
      told.credit.push(reason);
    },
    parked: (_queue, hold) => {
      told.parked.push(hold);
    },
  };
  return { holds, told };
}

describe('holds', () => {
  it('a held queue parks its queued jobs before anything is reserved or sent', async () => {
    const { holds, told } = fakeHolds({ hold: { kind: 'pause', reason: 'queue catalog paused by ops: deploy' } });
    const { ctx, calls } = context(queued(), { holds, budget: { dailyUsd: 10, policy: 'hold' } });
    expect(await runStep(ctx)).toEqual({ kind: 'park', wakeAt: NOW + 5_000, reason: 'hold: pause' });
    expect(calls).toMatchObject({ created: [], reserved: 0 });
    expect(told.parked).toEqual(['pause']);
  });

  it('a 402 holds the account’s credit and puts the job back unpaid: same clientRef, reservation kept, no retry used', async () => {
    const { holds, told } = fakeHolds();
    const reservation = { amountMicroUsd: 150_000, day: '2026-12-02', month: '2026-12' };
    const create = async () => Promise.reject(apiError('permanent', 402, 'INSUFFICIENT_CREDIT'));
    const t = await runStep(context(submitting({ reservation, transientErrors: 2 }), { holds, create }, true).ctx);
    expect(t).toMatchObject({
      kind: 'park',
      reason: 'hold: credit',
      data: { step: 'queued', clientRef: 'rq_ref', reservation, transientErrors: 2 },
    });
    expect(told.credit).toHaveLength(1);
  });

  it('a 5xx once the breaker is open parks without using a retry; polls and look-ups wait too', async () => {
    const { holds } = fakeHolds({ breakerOpen: true });
    const create = async () => Promise.reject(apiError('retryable', 503, 'SERVICE_UNAVAILABLE'));
    const t = await runStep(context(submitting({ transientErrors: 7 }), { holds, create }, true).ctx);
    expect(t).toMatchObject({ kind: 'park', reason: 'hold: breaker', data: { step: 'queued', transientErrors: 7 } });
    let polled = 0;
    const get = async () => {
      polled += 1;
      return runObject('run-1', 'running');
    };
    expect(await runStep(context(submitted({ polls: 3 }), { holds, get }).ctx)).toEqual({
      kind: 'park',
      wakeAt: NOW + 5_000,
      reason: 'hold: breaker',
    });
    expect(polled).toBe(0);
    const late = submitting({ ambiguousSince: NOW - 10 * 60_000 });
    expect(await runStep(context(late, { holds }).ctx)).toMatchObject({ kind: 'park', reason: 'hold: breaker' });
  });

  it('past its deadline a run is polled again while the polls fail, and its deadline moves by the breaker’s open time', async () => {
    const failing = async () => Promise.reject(apiError('retryable', undefined, 'NETWORK_ERROR'));
    const t = await runStep(context(submitted({ deadlineAt: NOW - 1 }), { get: failing }).ctx);
    expect(t).toMatchObject({ kind: 'park', reason: 'polling' });
    const { holds } = fakeHolds({ openTotalMs: 70_000 });
    const extended = submitted({ deadlineAt: NOW - 1, breakerOpenMsAtSubmit: 10_000 });
    const parked = await runStep(context(extended, { holds }).ctx);
    expect(parked).toMatchObject({ kind: 'park', reason: 'polling' });
    expect(parked.kind === 'park' && parked.wakeAt).toBeLessThanOrEqual(NOW + 60_000);
    const spent = submitted({ deadlineAt: NOW - 1, breakerOpenMsAtSubmit: 70_000 });
    expect(await runStep(context(spent, { holds }).ctx)).toMatchObject({ kind: 'fail', code: 'RUN_DEADLINE_EXCEEDED' });
  });

  it('errors that are not the job’s own: Redis trouble at any step, anything once a run may exist', () => {
    const oom = new Error("OOM command not allowed when used memory > 'maxmemory'.");
    expect(isTroubleNotTheJobs(oom, { step: 'queued' })).toBe(true);
    expect(isTroubleNotTheJobs(new Error('Connection is closed.'), { step: 'queued' })).toBe(true);
    expect(isTroubleNotTheJobs(new Error("READONLY You can't write against a read only replica."), undefined)).toBe(
      true,
    );
    expect(isTroubleNotTheJobs(new TypeError('x is undefined'), { step: 'submitted' })).toBe(true);
    expect(isTroubleNotTheJobs(new TypeError('x is undefined'), { step: 'submitting' })).toBe(true);
    expect(isTroubleNotTheJobs(new TypeError('x is undefined'), { step: 'queued' })).toBe(false);
  });
});

describe('attempt outcome', () => {
  it('parked, final or retried — decided once', () => {
    expect(attemptOutcome(new DelayedError(), 0, 3)).toBe('parked');
    expect(attemptOutcome(new UnrecoverableError('X: y'), 0, 3)).toBe('final');
    expect(attemptOutcome(new Error('boom'), 0, 3)).toBe('retry');
    expect(attemptOutcome(new Error('boom'), 2, 3)).toBe('final');
  });
});
