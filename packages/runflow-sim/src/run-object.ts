import { microToUsdString } from '@runflow-queue/shared';
import type { CostBreakdown, RunRecord, SimDeliveryAttempt } from './run-store.ts';
import { isoTimestamp } from './timestamps.ts';
import { nameUuid } from './uuid-v7.ts';

// The wire shapes: the run object of POST/GET (runflow-api.md §3.1) and the callback payload (§4).

/** The one organisation every simulated key belongs to. */
export const SIM_ORG_ID = nameUuid('org');

/** The run object as Runflow returns it. */
export interface RunObject {
  id: string;
  model_id: string;
  target_type: 'model';
  org_id: string;
  status_code: string;
  source_code: 'api';
  input: Record<string, unknown>;
  output: Record<string, unknown> | null;
  cost: string | null;
  cost_breakdown: CostBreakdown | null;
  duration_ms: number | null;
  client_ref: string | null;
  metadata: Record<string, unknown> | null;
  callback_url: string | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  failure_code: string | null;
  failure_message: string | null;
  failure_stage_code: string | null;
  request_id: string;
  batch_id: null;
}

/** A run as the simulator saw it: the run object plus what only the simulator knows. */
export type SimRun = RunObject & {
  billed: boolean;
  deliveries: SimDeliveryAttempt[];
  idempotencyKey: string | null;
  /** Creates answered with this run that the resetAfterCreate fault cut off (the client saw no answer). */
  unanswered: number;
  /** Creates answered with this run by an Idempotency-Key replay. */
  replays: number;
  /** Searches (GET /v1/runs?q=client_ref:…) that returned this run. */
  foundBySearch: number;
};

export type CallbackEvent = 'run.completed' | 'run.failed' | 'run.cancelled';

export interface CallbackBody {
  event: CallbackEvent;
  run_id: string;
  status: string;
  output: unknown;
  duration_ms: number | null;
  created_at: string;
  completed_at: string | null;
  metadata: Record<string, unknown> | null;
}

const modelUuids = new Map<string, string>();

/** A fixed fake UUID per model slug: Runflow's `model_id` is a uuid, not the slug. */
export function modelUuid(model: string): string {
  let id = modelUuids.get(model);
  if (!id) {
    id = nameUuid(`model:${model}`);
    modelUuids.set(model, id);
  }
  return id;
}

export function toRunObject(run: RunRecord): RunObject {
  return {
    id: run.id,
    model_id: modelUuid(run.model),
    target_type: 'model',
    org_id: SIM_ORG_ID,
    status_code: run.status,
    source_code: 'api',
    input: run.input,
    output: run.output,
    cost: run.costMicroUsd === null || run.costHidden ? null : microToUsdString(run.costMicroUsd),
    cost_breakdown: run.costBreakdown,
    duration_ms: durationMs(run),
    client_ref: run.clientRef,
    metadata: run.metadata,
    callback_url: run.callbackUrl,
    created_at: isoTimestamp(run.createdAtMs),
    started_at: run.startedAtMs === null ? null : isoTimestamp(run.startedAtMs),
    completed_at: run.completedAtMs === null ? null : isoTimestamp(run.completedAtMs),
    failure_code: run.failure?.code ?? null,
    failure_message: run.failure?.message ?? null,
    failure_stage_code: run.failure?.stage ?? null,
    request_id: run.requestId,
    batch_id: null,
  };
}

export function toSimRun(run: RunRecord): SimRun {
  return {
    ...toRunObject(run),
    billed: run.billed,
    deliveries: run.deliveries.map((attempt) => ({ ...attempt })),
    idempotencyKey: run.idempotencyKey,
    unanswered: run.unanswered,
    replays: run.replays,
    foundBySearch: run.foundBySearch,
  };
}

/** The callback payload of a terminal run. Serialized once by the caller; those bytes are signed. */
export function toCallbackBody(run: RunRecord): CallbackBody {
  // Event names keep the UK spelling whatever the status says (runflow-api.md §3.2).
  const event: CallbackEvent =
    run.status === 'succeeded' ? 'run.completed' : run.status === 'failed' ? 'run.failed' : 'run.cancelled';
  const output =
    event === 'run.completed'
      ? run.output
      : event === 'run.failed'
        ? { code: run.failure?.code ?? 'RUN_FAILED', message: run.failure?.message ?? 'The run failed' }
        : null;
  return {
    event,
    run_id: run.id,
    status: run.status,
    output,
    duration_ms: durationMs(run),
    created_at: isoTimestamp(run.createdAtMs),
    completed_at: run.completedAtMs === null ? null : isoTimestamp(run.completedAtMs),
    metadata: run.metadata,
  };
}

function durationMs(run: RunRecord): number | null {
  return run.completedAtMs === null ? null : Math.round(run.completedAtMs - run.createdAtMs);
}
