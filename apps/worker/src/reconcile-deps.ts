import type { RunflowClient } from '@runflow-queue/runflow-client';
import type {
  EditQueue,
  ModelIds,
  RateGovernor,
  RedisClient,
  RunIndex,
  SpendLedger,
  SpendRecords,
} from '@runflow-queue/store';
import type { Logger } from 'pino';

/** What the spend reconciler's passes share. */
export interface ReconcileDeps {
  client: Pick<RunflowClient, 'getRun' | 'listRuns' | 'getBalance'>;
  governor: Pick<RateGovernor, 'acquire' | 'penalize'>;
  ledger: SpendLedger;
  records: SpendRecords;
  runIndex: Pick<RunIndex, 'locate'>;
  modelIds: Pick<ModelIds, 'slugOf'>;
  /** The queues this fleet settles into; runs whose metadata names another are not ours. */
  queue: (name: string) => EditQueue | undefined;
  redis: RedisClient;
  prefix: string;
  /** The reconciler's weight among the queues' shares of the rate limit (low: it never delays submits). */
  share: number;
  logger: Logger;
  now: () => number;
  /** True while the account's breaker is open (Runflow down): the reconciler sends nothing then. */
  breakerOpen?: () => boolean;
}

/** The governor's name for the reconciler's requests (not a queue name: queues cannot contain `~`). */
export const RECONCILER_GOVERNOR_QUEUE = '~spend-reconciler';

/**
 * One request slot at the reconciler's share, waited for here when it is within a second; false when
 * the governor says "later", or the account's breaker is open (the pass stops and the next tick
 * resumes): submits always go first.
 */
export async function reconcilerSlot(deps: ReconcileDeps): Promise<boolean> {
  // Runflow is down for the account: only the breaker's probe may ask it anything.
  if (deps.breakerOpen?.()) return false;
  const decision = await deps.governor.acquire(RECONCILER_GOVERNOR_QUEUE, deps.share, 1_000);
  if (!decision.granted) return false;
  if (decision.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, decision.delayMs));
  return true;
}
