import { utcDay } from '@runflow-queue/shared';
import type { BillingLedger } from './billing.ts';
import type { CallbackDispatcher } from './callbacks.ts';
import { rollFault } from './faults.ts';
import { outputDataUri } from './images.ts';
import type { CostBreakdown, RunRecord, RunStore } from './run-store.ts';
import { isTerminal } from './run-store.ts';
import type { SimConfig } from './sim-options.ts';
import { type SimCharge, simCharge } from './sim-pricing.ts';
import type { SimCounters } from './stats.ts';
import { nowMs } from './timestamps.ts';

// queued → running → succeeded | failed, on one timer per run. The total latency is drawn uniformly
// from the configured range when the run is created; about a fifth of it is spent queued (waiting
// for compute), the rest running. Billing happens at the moment a run succeeds, exactly once.

/** Share of a run's latency spent `queued`. */
const QUEUED_SHARE = 0.2;

export interface LifecycleDeps {
  config: SimConfig;
  store: RunStore;
  billing: BillingLedger;
  counters: SimCounters;
  callbacks: CallbackDispatcher;
  /** Base of output URLs, known once the server listens. */
  publicUrl: () => string;
}

export class RunLifecycle {
  private readonly deps: LifecycleDeps;

  constructor(deps: LifecycleDeps) {
    this.deps = deps;
  }

  start(run: RunRecord): void {
    const { min, max } = this.deps.config.latencyMs;
    const totalMs = min + Math.random() * (max - min);
    const queuedMs = totalMs * QUEUED_SHARE;
    this.deps.callbacks.runCreated(run);
    run.timer = setTimeout(() => this.toRunning(run, totalMs - queuedMs), queuedMs);
  }

  /** Admin cancellation: false when the run was already terminal (then nothing changes). */
  cancel(run: RunRecord): boolean {
    if (isTerminal(run.status)) return false;
    run.status = this.deps.config.cancelSpelling;
    run.completedAtMs = nowMs();
    // Late provider results are dropped by Runflow's terminal-state guard; nothing is billed here.
    run.costMicroUsd = 0;
    this.settle(run);
    return true;
  }

  /** Stops every pending transition; runs stay in whatever state they reached. */
  close(): void {
    for (const run of this.deps.store.active) {
      if (run.timer) clearTimeout(run.timer);
      run.timer = null;
    }
  }

  private toRunning(run: RunRecord, runningMs: number): void {
    run.status = 'running';
    run.startedAtMs = nowMs();
    if (runningMs <= 0) {
      this.finish(run);
      return;
    }
    run.timer = setTimeout(() => this.finish(run), runningMs);
  }

  private finish(run: RunRecord): void {
    run.completedAtMs = nowMs();
    if (rollFault(this.deps.config.faults, 'runFailed', this.deps.counters)) this.fail(run);
    else this.succeed(run);
    this.settle(run);
  }

  private succeed(run: RunRecord): void {
    const completedAtMs = run.completedAtMs ?? nowMs();
    const day = utcDay(completedAtMs);
    const { pricing } = this.deps.config;
    const charge = simCharge(pricing, run.model, run.input, run.images, day);
    const costMicroUsd = charge.totalMicroUsd;
    run.status = 'succeeded';
    run.output = this.successOutput(run, completedAtMs);
    run.costMicroUsd = costMicroUsd;
    // A model whose records carry no cost still bills: the record just does not say how much.
    run.costHidden = pricing.noCostModels.includes(run.model);
    run.costBreakdown = run.costHidden ? null : costBreakdown(run, charge);
    run.billed = true;
    this.deps.billing.record({
      runId: run.id,
      model: run.model,
      day,
      images: run.images,
      costMicroUsd,
      clientRef: run.clientRef,
      metadata: run.metadata,
    });
  }

  private fail(run: RunRecord): void {
    run.status = 'failed';
    run.costMicroUsd = 0; // failed runs are not billed
    run.failure = {
      code: 'PROVIDER_ERROR',
      message: 'The model provider returned an error (simulated)',
      stage: 'running',
    };
  }

  private settle(run: RunRecord): void {
    if (run.timer) clearTimeout(run.timer);
    run.timer = null;
    this.deps.store.markTerminal(run);
    this.deps.callbacks.runTerminal(run);
  }

  private successOutput(run: RunRecord, completedAtMs: number): Record<string, unknown> {
    const urls: string[] = [];
    const base = this.deps.publicUrl();
    for (let index = 0; index < run.images; index++) {
      // sync_mode: media comes back inline as a data URI instead of a stored, presigned URL.
      urls.push(
        run.input.sync_mode === true
          ? outputDataUri(run.id, index, run.outputFormat)
          : `${base}/outputs/${run.id}/${index}.${run.outputFormat}`,
      );
    }
    if (this.deps.config.outputShape === 'image_urls') return { image_urls: urls };
    const seed = typeof run.input.seed === 'number' ? run.input.seed : Math.floor(Math.random() * 2 ** 31);
    const inferenceMs = Math.round(completedAtMs - (run.startedAtMs ?? completedAtMs));
    return {
      outputs: urls.map((url) => ({ url, type: 'image' })),
      model_data: null,
      seed,
      timing: { inference_ms: inferenceMs },
      nsfw_detected: false,
    };
  }
}

function costBreakdown(run: RunRecord, charge: SimCharge): CostBreakdown {
  return {
    currency: 'USD',
    images: run.images,
    per_image_micro_usd: charge.perImageMicroUsd,
    base_micro_usd: charge.baseMicroUsd * run.images,
    surcharges: charge.surcharges.map((surcharge) => ({
      name: surcharge.name,
      per_image_micro_usd: surcharge.perImageMicroUsd,
      micro_usd: surcharge.perImageMicroUsd * run.images,
    })),
    total_micro_usd: charge.totalMicroUsd,
  };
}
