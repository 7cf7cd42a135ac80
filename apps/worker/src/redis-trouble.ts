import type { WorkerMetrics } from '@runflow-queue/metrics';
import { redisTroubleKind } from '@runflow-queue/store';
import type { Logger } from 'pino';
import { backoffMs } from './lifecycle-config.ts';

/** Backoff after Redis trouble: from 1 s, doubling per error in a row, capped at 30 s. */
const BASE_MS = 1_000;
const CAP_MS = 30_000;
/** An error older than this no longer counts toward the streak. */
const QUIET_MS = 60_000;

/**
 * Redis trouble as this worker process meets it (OOM, READONLY, connection lost, timeouts): counted
 * by kind, logged at most once per streak, and turned into a backoff that grows while it lasts — every
 * job that meets it parks for that long instead of using an attempt.
 */
export class RedisTrouble {
  readonly #metrics: WorkerMetrics | undefined;
  readonly #logger: Logger;
  readonly #now: () => number;
  #streak = 0;
  #lastAt = 0;

  constructor(options: { metrics?: WorkerMetrics; logger: Logger; now?: () => number }) {
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  /** Counts `error` when it is Redis trouble; true when it was. */
  record(error: unknown, where: string): boolean {
    const kind = redisTroubleKind(error);
    if (!kind) return false;
    const now = this.#now();
    if (now - this.#lastAt > QUIET_MS) this.#streak = 0;
    this.#streak += 1;
    this.#lastAt = now;
    this.#metrics?.redisErrors.inc({ kind });
    if (this.#streak === 1) {
      this.#logger.error(
        { kind, where, err: (error as Error).message },
        'Redis trouble: jobs park and retry without using attempts',
      );
    }
    return true;
  }

  /** How long a job that met trouble now should wait (ms). */
  backoffMs(): number {
    return backoffMs(BASE_MS, Math.max(0, this.#streak - 1), CAP_MS);
  }
}
