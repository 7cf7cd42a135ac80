import { randomUUID } from 'node:crypto';
import { isRunflowApiError } from '@runflow-queue/runflow-client';
import { BalanceSamples, RedisLease, spendKeys } from '@runflow-queue/store';
import { type ConfirmPass, confirmRuns } from './confirm-runs.ts';
import { type HealPass, healRuns } from './heal-runs.ts';
import { type ReconcileDeps, reconcilerSlot } from './reconcile-deps.ts';

// The fleet's one spend reconciler. It runs inside the workers (they already hold a Runflow client,
// the rate governor and Redis; no extra deployable to forget), and a Redis lease makes exactly one of
// them do the work: the holder renews it every tick, and when it dies the lease runs out and another
// worker takes over. Every request it sends takes a governor slot at a low share, and a refused slot
// ends the pass, so it never delays a submit.

export interface ReconcilerOptions {
  /** How often the holder works (and renews the lease), ms. */
  intervalMs: number;
  /** A run is looked for in Runflow's list only once it is this old (its job settles it first), ms. */
  healLagMs: number;
  /** On a fresh Redis, how far back the first scan of Runflow's list reaches, ms. */
  healLookbackMs: number;
  /** How often the balance is read (one request), ms; 0: never. */
  balanceEveryMs: number;
}

export interface ReconcileTick {
  leader: boolean;
  confirm?: ConfirmPass;
  heal?: HealPass;
  balanceSampled?: boolean;
}

export class SpendReconciler {
  readonly #deps: ReconcileDeps;
  readonly #options: ReconcilerOptions;
  readonly #lease: RedisLease;
  readonly #balance: BalanceSamples;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #lastBalanceAt = 0;
  #stopped = false;

  constructor(deps: ReconcileDeps, options: ReconcilerOptions) {
    this.#deps = deps;
    this.#options = options;
    this.#lease = new RedisLease(deps.redis, {
      key: spendKeys(deps.prefix).reconcilerLease,
      holder: randomUUID(),
      durationMs: Math.max(3 * options.intervalMs, 10_000),
    });
    this.#balance = new BalanceSamples(deps.redis, { prefix: deps.prefix });
  }

  start(): void {
    const loop = () => {
      if (this.#stopped) return;
      this.#running = this.tick()
        .catch((err: unknown) => this.#deps.logger.warn({ err }, 'spend reconciler: tick failed; trying again'))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(loop, this.#options.intervalMs);
        });
    };
    this.#timer = setTimeout(loop, this.#options.intervalMs);
  }

  /** One round: take or renew the lease; as holder, sample the balance, confirm, heal. */
  async tick(): Promise<ReconcileTick> {
    if (!(await this.#lease.hold())) return { leader: false };
    const now = this.#deps.now();
    const balanceSampled = await this.#sampleBalance(now);
    const confirm = await confirmRuns(this.#deps, now);
    const heal = await healRuns(this.#deps, this.#options.healLookbackMs, now - this.#options.healLagMs);
    if (confirm.confirmed > 0 || heal.healed > 0) {
      this.#deps.logger.info(
        {
          confirmed: confirm.confirmed,
          adjustedMicroUsd: confirm.adjustedMicroUsd,
          healed: heal.healed,
          healedMicroUsd: heal.healedMicroUsd,
          requests: confirm.requests + heal.requests,
        },
        'spend reconciled',
      );
    }
    return { leader: true, confirm, heal, balanceSampled };
  }

  async #sampleBalance(now: number): Promise<boolean> {
    if (this.#options.balanceEveryMs <= 0 || now - this.#lastBalanceAt < this.#options.balanceEveryMs) return false;
    if (!(await reconcilerSlot(this.#deps))) return false;
    this.#lastBalanceAt = now;
    try {
      const { balanceCents } = await this.#deps.client.getBalance();
      const ledgerMicroUsd = await this.#deps.ledger.totalMicroUsd();
      await this.#balance.record({ atMs: now, balanceCents, ledgerMicroUsd });
      return true;
    } catch (error) {
      if (!isRunflowApiError(error)) throw error;
      this.#deps.logger.info({ code: error.code }, 'spend reconciler: balance read failed');
      return false;
    }
  }

  /** Stops ticking, waits for a tick in progress, gives the lease up (another worker takes over). */
  async close(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
    await this.#lease.release().catch(() => {});
  }
}
