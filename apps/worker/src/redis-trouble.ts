import type { WorkerMetrics } from '@runflow-queue/metrics';
import { redisTroubleKind } from '@runflow-queue/store';
import type { Logger } from 'pino';
import { backoffMs } from './lifecycle-config.ts';

/** Backoff after Redis trouble: as long as the trouble has lasted so far, from 1 s, capped at 30 s. */
const BASE_MS = 1_000;
const CAP_MS = 30_000;
/** An error older than this no longer counts toward the streak. */
const QUIET_MS = 60_000;

/**
 * Redis trouble as this worker process meets it (OOM, READONLY, connection lost, timeouts): counted
 * by kind, logged once per streak, and turned into a backoff that grows while it lasts — every job
 * that meets it parks for that long instead of using an attempt. A job's work that goes through again
 * ends the streak.
 */
export class RedisTrouble {
  readonly #metrics: WorkerMetrics | undefined;
  readonly #logger: Logger;
  readonly #now: () => number;
  #streak = 0;
  #firstAt = 0;
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
    if (this.#streak === 0) this.#firstAt = now;
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

  /** Redis answered a job's work again: the next trouble starts a new streak (from 1 s). */
  clear(): void {
    if (this.#streak === 0) return;
    this.#streak = 0;
    this.#logger.info('Redis answers again');
  }

  /** How long a job that met trouble now should wait (ms). */
  backoffMs(): number {
    // Many jobs meet the same trouble at once, so the count of errors says little; its duration does.
    const lasted = this.#streak === 0 ? 0 : this.#now() - this.#firstAt;
    return backoffMs(Math.max(BASE_MS, lasted), 0, CAP_MS);
  }
}
