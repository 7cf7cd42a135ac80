import type { ModelId } from '@runflow-queue/shared';
import type { OutputFormat } from './images.ts';

export type SimStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'cancelled';

export interface CostBreakdown {
  currency: 'USD';
  images: number;
  per_image_micro_usd: number;
  base_micro_usd: number;
  surcharges: { name: string; per_image_micro_usd: number; micro_usd: number }[];
  total_micro_usd: number;
}

export interface RunFailure {
  code: string;
  message: string;
  stage: string;
}

/** One POST attempt of a callback copy. */
export interface SimDeliveryAttempt {
  /** 1 = the original, 2 = the duplicate sent by the duplicate/out-of-order faults. */
  copy: number;
  /** 1-based within the copy. */
  attempt: number;
  /** `Runflow-Request-Id` of the copy (stable across its retries). */
  requestId: string;
  startedAt: string;
  durationMs: number;
  /** HTTP status answered, or null when the attempt errored (timeout, refused, reset). */
  statusCode: number | null;
  error: string | null;
  /** Whether a `Runflow-Signature` was sent (null signing secret → false). */
  signed: boolean;
}

/** Everything the simulator knows about a run; the wire shape is derived from it in run-object.ts. */
export interface RunRecord {
  id: string;
  model: ModelId;
  /** As sent: Runflow echoes the input verbatim. */
  input: Record<string, unknown>;
  outputFormat: OutputFormat;
  images: number;
  callbackUrl: string | null;
  metadata: Record<string, unknown> | null;
  clientRef: string | null;
  requestId: string;
  idempotencyKey: string | null;
  status: SimStatus;
  createdAtMs: number;
  startedAtMs: number | null;
  completedAtMs: number | null;
  output: Record<string, unknown> | null;
  costMicroUsd: number | null;
  /** The record shows no cost (pricing.noCostModels) although the run billed costMicroUsd. */
  costHidden?: boolean;
  costBreakdown: CostBreakdown | null;
  failure: RunFailure | null;
  billed: boolean;
  deliveries: SimDeliveryAttempt[];
  /** Creates answered with this run whose socket the resetAfterCreate fault destroyed (ambiguous submits). */
  unanswered: number;
  /** Creates answered with this run by replaying an Idempotency-Key (no new run). */
  replays: number;
  /** Searches (GET /v1/runs) that returned this run. */
  foundBySearch: number;
  /** The pending lifecycle transition, while the run is not terminal. */
  timer: NodeJS.Timeout | null;
}

interface IdempotentCreate {
  fingerprint: string;
  runId: string;
  /** The 201 body first sent: a replay answers these exact bytes, as an idempotency cache does. */
  responseBody: string;
}

export class RunStore {
  private readonly runs = new Map<string, RunRecord>();
  private readonly idempotent = new Map<string, IdempotentCreate>();
  /** Non-terminal runs, so that inFlight and close() do not scan every run ever made. */
  readonly active = new Set<RunRecord>();

  add(run: RunRecord): void {
    this.runs.set(run.id, run);
    this.active.add(run);
  }

  get(id: string): RunRecord | undefined {
    return this.runs.get(id);
  }

  all(): IterableIterator<RunRecord> {
    return this.runs.values();
  }

  markTerminal(run: RunRecord): void {
    this.active.delete(run);
  }

  findIdempotent(key: string): IdempotentCreate | undefined {
    return this.idempotent.get(key);
  }

  rememberIdempotent(key: string, entry: IdempotentCreate): void {
    this.idempotent.set(key, entry);
  }
}

export function isTerminal(status: SimStatus): boolean {
  return status !== 'queued' && status !== 'running';
}

/**
 * JSON with object keys sorted at every depth, so that two bodies that differ only in key order
 * count as the same request for idempotency.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
