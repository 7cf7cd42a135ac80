import type { WorkerMetrics } from '@runflow-queue/metrics';
import { isRunflowApiError, type RunflowApiError, type RunflowClient } from '@runflow-queue/runflow-client';
import {
  AccountHolds,
  type BreakerPolicy,
  type HoldsSnapshot,
  parseHolds,
  type RedisClient,
  submitHoldOf,
} from '@runflow-queue/store';
import type { Logger } from 'pino';
import type { RedisTrouble } from './redis-trouble.ts';

export interface HoldsConfig {
  breaker: BreakerPolicy;
  /** While submits are held by credit, GET /v1/billing/balance this often (ms). */
  creditProbeIntervalMs: number;
  /** The cached holds are at most this old (ms; ≤ 1000: a pause is honoured within a second). */
  refreshMs: number;
  /**
   * A job that meets a hold parks at least this long (ms) before it looks again — a quarter of the
   * hold's age once that is longer, up to 30 s (with jitter ×0.5–1): a long outage does not turn the
   * backlog into a storm of wake-ups, a short one resumes quickly.
   */
  recheckMs: number;
}

export const DEFAULT_HOLDS_CONFIG: HoldsConfig = {
  breaker: { failures: 10, windowMs: 10_000, probeBaseMs: 5_000, probeMaxMs: 30_000 },
  creditProbeIntervalMs: 10_000,
  refreshMs: 500,
  recheckMs: 5_000,
};

/** The longest a held job parks before it looks again (ms). */
const MAX_RECHECK_MS = 30_000;

/** What a hold looks like to a step: its kind and the reason the job's log line gives. */
export interface SubmitHold {
  kind: 'breaker' | 'credit' | 'pause';
  reason: string;
}

/** The steps' view of the holds: cached reads (no Redis call per job), and the two writes they make. */
export interface HoldsView {
  /** The hold that stops this queue's submits now, if any (cached, ≤ refreshMs old). */
  submitHold(queue: string): SubmitHold | undefined;
  /** True while the breaker is open: polls and look-ups wait too. */
  breakerOpen(): boolean;
  /** The breaker's total open time so far (ms): poll deadlines move out by what accrued since submit. */
  breakerOpenTotalMs(): number;
  /** When a job that met a hold should look again (epoch ms, jittered). */
  recheckAt(now: number): number;
  /** Every Runflow answer or failure of a create, get or look-up: feeds the breaker. Resolves "breaker open". */
  observe(error: RunflowApiError | undefined): Promise<boolean>;
  /** Runflow answered 402 INSUFFICIENT_CREDIT. */
  holdCredit(reason: string): Promise<void>;
  /** Counts a job that parked for a hold. */
  parked(queue: string, hold: SubmitHold['kind']): void;
}

/** A 5xx (or a failure with no HTTP answer at all): Runflow itself is in trouble. 429 and 4xx are answers. */
export function isOutageError(error: RunflowApiError): boolean {
  if (error.kind === 'permanent') return false;
  if (error.status === 429) return false;
  if (error.code === 'CLIENT_CLOSED' || error.code === 'ABORTED') return false;
  return error.status === undefined || error.status >= 500;
}

/**
 * One per worker process: keeps a snapshot of the account's holds (refreshed every refreshMs), runs
 * the probes when one is due — `GET /v1/health` for an open breaker (backing off 5 → 30 s), `GET
 * /v1/billing/balance` for a credit hold — one probe at a time fleet-wide (a claim in Redis), and
 * exports the holds as gauges.
 */
export class HoldsMonitor implements HoldsView {
  readonly #holds: AccountHolds;
  readonly #client: Pick<RunflowClient, 'checkHealth' | 'getBalance'>;
  readonly #config: HoldsConfig;
  readonly #logger: Logger;
  readonly #metrics: WorkerMetrics | undefined;
  readonly #trouble: RedisTrouble | undefined;
  readonly #now: () => number;
  #snapshot: HoldsSnapshot;
  /** A failure was recorded since the last refresh: the next success must reset the streak. */
  #failedSinceRefresh = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #shownHolds = new Set<string>();

  constructor(options: {
    connection: RedisClient;
    prefix: string;
    accountKey: string;
    client: Pick<RunflowClient, 'checkHealth' | 'getBalance'>;
    config?: HoldsConfig;
    logger: Logger;
    metrics?: WorkerMetrics;
    trouble?: RedisTrouble;
    now?: () => number;
  }) {
    this.#now = options.now ?? Date.now;
    this.#holds = new AccountHolds(options.connection, {
      prefix: options.prefix,
      accountKey: options.accountKey,
      now: this.#now,
    });
    this.#client = options.client;
    this.#config = options.config ?? DEFAULT_HOLDS_CONFIG;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#trouble = options.trouble;
    this.#snapshot = parseHolds({}, this.#now());
  }

  /** Reads the holds once (so the first job sees them), then keeps them fresh. */
  async start(): Promise<void> {
    await this.refresh().catch(() => undefined);
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.refresh()
        .then(() => this.#probe())
        .catch((error: unknown) => {
          this.#trouble?.record(error, 'holds refresh');
          this.#logger.warn({ err: error }, 'could not refresh the account holds; keeping the last ones');
        })
        .finally(() => this.#schedule());
    }, this.#config.refreshMs);
    this.#timer.unref();
  }

  /** Reads the holds from Redis now. */
  async refresh(): Promise<HoldsSnapshot> {
    const snapshot = await this.#holds.snapshot();
    this.#snapshot = snapshot;
    this.#failedSinceRefresh = false;
    this.#export(snapshot);
    return snapshot;
  }

  snapshot(): HoldsSnapshot {
    return this.#snapshot;
  }

  submitHold(queue: string): SubmitHold | undefined {
    return submitHoldOf(this.#snapshot, queue);
  }

  breakerOpen(): boolean {
    return this.#snapshot.breaker.open;
  }

  breakerOpenTotalMs(): number {
    const { breaker } = this.#snapshot;
    const live = breaker.open && breaker.since !== undefined ? Math.max(0, this.#now() - this.#snapshot.at) : 0;
    return breaker.openTotalMs + live;
  }

  recheckAt(now: number): number {
    const { breaker, credit, pauses } = this.#snapshot;
    const since = Math.min(breaker.since ?? now, credit.since ?? now, ...pauses.map((p) => p.since));
    const waitMs = Math.min(MAX_RECHECK_MS, Math.max(this.#config.recheckMs, (now - since) / 4));
    return now + Math.round(waitMs * (0.5 + Math.random() / 2));
  }

  async observe(error: RunflowApiError | undefined): Promise<boolean> {
    if (error && isOutageError(error)) {
      this.#failedSinceRefresh = true;
      const opened = await this.#holds.recordFailure(`${error.code}: ${error.message}`, this.#config.breaker);
      if (opened) {
        this.#logger.error({ code: error.code }, 'Runflow breaker opened: submits and polls are held fleet-wide');
        await this.refresh();
      }
      return this.#snapshot.breaker.open;
    }
    // An answer: only a streak (or an open breaker) needs a write, so the healthy path costs nothing.
    if (this.#snapshot.breaker.streak > 0 || this.#failedSinceRefresh || this.#snapshot.breaker.open) {
      this.#failedSinceRefresh = false;
      // Reset locally too: the next answers until the refresh need no write.
      this.#snapshot = { ...this.#snapshot, breaker: { ...this.#snapshot.breaker, streak: 0 } };
      if (await this.#holds.recordSuccess()) {
        this.#logger.info('Runflow answered: breaker closed');
        await this.refresh();
      }
    }
    return this.#snapshot.breaker.open;
  }

  async holdCredit(reason: string): Promise<void> {
    if (await this.#holds.holdCredit(reason, this.#config.creditProbeIntervalMs)) {
      this.#logger.error({ reason }, 'Runflow credit spent: submits are held fleet-wide until it is topped up');
    }
    await this.refresh();
  }

  parked(queue: string, hold: SubmitHold['kind']): void {
    this.#metrics?.holdParks.inc({ queue, hold });
  }

  /** One probe at a time fleet-wide: whoever claims it asks Runflow, then records the answer. */
  async #probe(): Promise<void> {
    const { breaker, credit } = this.#snapshot;
    const now = this.#now();
    const claimMs = 15_000;
    if (breaker.open) {
      if ((breaker.nextProbeAt ?? 0) > now || !(await this.#holds.claimProbe('breaker', claimMs))) return;
      try {
        await this.#client.checkHealth();
        await this.#holds.recordSuccess();
        this.#logger.info({ openMs: now - (breaker.since ?? now) }, 'Runflow health probe answered: breaker closed');
      } catch (error) {
        await this.#holds.breakerProbeFailed(this.#config.breaker);
        this.#logger.warn(
          { err: isRunflowApiError(error) ? error.code : String(error) },
          'Runflow health probe failed; breaker stays open',
        );
      }
      await this.refresh();
      return;
    }
    if (!credit.held) return;
    if ((credit.nextProbeAt ?? 0) > now || !(await this.#holds.claimProbe('credit', claimMs))) return;
    try {
      const balance = await this.#client.getBalance();
      if (balance.balanceCents > 0) {
        await this.#holds.liftCredit();
        this.#logger.info({ balanceCents: balance.balanceCents }, 'Runflow credit is back: submits resume');
      } else {
        await this.#holds.creditStillSpent(this.#config.creditProbeIntervalMs);
        this.#logger.info({ balanceCents: balance.balanceCents }, 'Runflow credit still spent');
      }
    } catch (error) {
      await this.#holds.creditStillSpent(this.#config.creditProbeIntervalMs);
      this.#logger.warn({ err: isRunflowApiError(error) ? error.code : String(error) }, 'balance probe failed');
    }
    await this.refresh();
  }

  #export(snapshot: HoldsSnapshot): void {
    const metrics = this.#metrics;
    if (!metrics) return;
    const on = new Set<string>();
    if (snapshot.breaker.open) on.add('breaker|*');
    if (snapshot.credit.held) on.add('credit|*');
    for (const pause of snapshot.pauses) on.add(`pause|${pause.queue ?? '*'}`);
    for (const key of new Set([...on, ...this.#shownHolds, 'breaker|*', 'credit|*', 'pause|*'])) {
      const [hold, queue] = key.split('|');
      metrics.holdActive.set({ hold, queue }, on.has(key) ? 1 : 0);
    }
    this.#shownHolds = on;
  }
}
