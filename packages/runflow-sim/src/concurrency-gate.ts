import type { RunRecord } from './run-store.ts';
import type { SimConfig } from './sim-options.ts';

// Per-model concurrency caps (runflow-api.md §6). A run holds one of its model's slots from the moment
// it is dispatched (its latency starts) until it is terminal. In `reject` mode a create over the cap is
// refused before any run exists; in `queue` mode it is accepted and waits, `queued`, first in first
// out, until a slot frees — its latency counts from then.

export class ConcurrencyGate {
  readonly #config: SimConfig;
  /** Runs holding a slot, per model. */
  readonly #holding = new Map<string, Set<RunRecord>>();
  /** Runs accepted over the cap (queue mode), oldest first, per model. */
  readonly #waiting = new Map<string, RunRecord[]>();

  constructor(config: SimConfig) {
    this.#config = config;
  }

  /** The model's cap, or undefined when it is not capped. */
  capOf(model: string): number | undefined {
    return this.#config.concurrencyCaps?.models[model];
  }

  /** Runs of the model holding a slot now. */
  inFlight(model: string): number {
    return this.#holding.get(model)?.size ?? 0;
  }

  /** Runs of the model waiting for a slot (queue mode). */
  waiting(model: string): number {
    return this.#waiting.get(model)?.length ?? 0;
  }

  /** True when a create for the model must be answered 429 (reject mode, every slot taken). */
  rejects(model: string): boolean {
    const cap = this.capOf(model);
    return cap !== undefined && this.#config.concurrencyCaps?.mode === 'reject' && this.inFlight(model) >= cap;
  }

  /** A new run: it takes a slot and `dispatch` starts it, or it waits for one (queue mode). */
  admit(run: RunRecord, dispatch: (run: RunRecord) => void): void {
    const cap = this.capOf(run.model);
    if (cap === undefined || this.inFlight(run.model) < cap) {
      this.#hold(run);
      dispatch(run);
      return;
    }
    const list = this.#waiting.get(run.model) ?? [];
    list.push(run);
    this.#waiting.set(run.model, list);
  }

  /** A run turned terminal (or was cancelled while waiting): frees its slot; waiting runs take free slots. */
  release(run: RunRecord, dispatch: (run: RunRecord) => void): void {
    const waiting = this.#waiting.get(run.model);
    const index = waiting?.indexOf(run) ?? -1;
    if (waiting && index >= 0) waiting.splice(index, 1);
    this.#holding.get(run.model)?.delete(run);
    this.drain(run.model, dispatch);
  }

  /** Dispatches waiting runs of the model (all models when none given) while slots are free: after a cap change. */
  drain(model: string | undefined, dispatch: (run: RunRecord) => void): void {
    const models = model === undefined ? [...this.#waiting.keys()] : [model];
    for (const each of models) {
      const waiting = this.#waiting.get(each);
      while (waiting && waiting.length > 0) {
        const cap = this.capOf(each);
        if (cap !== undefined && this.inFlight(each) >= cap) break;
        const next = waiting.shift() as RunRecord;
        this.#hold(next);
        dispatch(next);
      }
    }
  }

  #hold(run: RunRecord): void {
    const set = this.#holding.get(run.model) ?? new Set();
    set.add(run);
    this.#holding.set(run.model, set);
  }
}
