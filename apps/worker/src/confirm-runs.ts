import { isRunflowApiError } from '@runflow-queue/runflow-client';
import { isTerminalStatus, parseUsdToMicro, type Run } from '@runflow-queue/shared';
import { uuidV7TimeMs } from '@runflow-queue/store';
import { type ReconcileDeps, reconcilerSlot } from './reconcile-deps.ts';

/** Up to this many unconfirmed runs are looked up one by one; more are confirmed from pages of the run list. */
export const PER_RUN_LOOKUPS = 10;
const PAGE = 500;
/** Run ids are minted around created_at, not exactly at it: the page window is widened by this. */
const WINDOW_SLACK_MS = 60_000;
/** A run still unconfirmed this long after its settle is looked up by id, whatever the pages said. */
const LOOK_UP_AFTER_MS = 10 * 60_000;

export interface ConfirmPass {
  confirmed: number;
  adjustedMicroUsd: number;
  requests: number;
}

/**
 * Confirms runs settled from the price table against Runflow's own record: `GET /v1/runs/{id}` each
 * when few are waiting, else pages of `GET /v1/runs` over their creation window (500 runs a request),
 * whichever costs fewer requests. A run not terminal yet on Runflow, or one Runflow cannot find, stays
 * unconfirmed (and visible as such).
 */
export async function confirmRuns(deps: ReconcileDeps, olderThanMs: number): Promise<ConfirmPass> {
  const pass: ConfirmPass = { confirmed: 0, adjustedMicroUsd: 0, requests: 0 };
  const waiting = (await deps.ledger.unconfirmed(PAGE)).filter((run) => run.settledAtMs <= olderThanMs);
  if (waiting.length === 0) return pass;
  const byId = new Set(waiting.map((run) => run.runId));
  const apply = async (run: Run) => {
    if (!byId.has(run.id) || !isTerminalStatus(run.status_code)) return;
    byId.delete(run.id);
    const before = await deps.ledger.record(run.id);
    const after = await deps.ledger.confirm(run.id, parseUsdToMicro(run.cost) ?? null);
    if (after && before?.state === 'estimated') {
      pass.confirmed += 1;
      pass.adjustedMicroUsd += after.adjustmentMicroUsd;
    }
  };

  /** GET /v1/runs/{id} for each, a governor slot per request; stops when a slot or an error says so. */
  const lookUpOneByOne = async (runs: readonly { runId: string }[]) => {
    for (const { runId } of runs) {
      if (!(await reconcilerSlot(deps))) return;
      pass.requests += 1;
      try {
        await apply(await deps.client.getRun(runId));
      } catch (error) {
        if (!(await handleError(deps, error, runId))) return;
      }
    }
  };

  const times = waiting.map((run) => uuidV7TimeMs(run.runId));
  const pageable = times.every((t) => t !== undefined);
  if (waiting.length <= PER_RUN_LOOKUPS || !pageable) {
    await lookUpOneByOne(waiting.slice(0, pageable ? PER_RUN_LOOKUPS : PAGE));
    return pass;
  }
  const from = Math.min(...(times as number[])) - WINDOW_SLACK_MS;
  const to = Math.max(...(times as number[])) + WINDOW_SLACK_MS;
  let cursor: string | null = null;
  do {
    if (!(await reconcilerSlot(deps))) break;
    pass.requests += 1;
    try {
      const page = await deps.client.listRuns({ createdFromMs: from, createdToMs: to, limit: PAGE, cursor });
      for (const run of page.runs) await apply(run);
      cursor = page.next;
    } catch (error) {
      if (!(await handleError(deps, error, 'run list'))) break;
      cursor = null;
    }
  } while (cursor && byId.size > 0);
  // Runs the pages did not show (a list that leaves some out): one by one once they are old.
  const stale = waiting.filter((run) => byId.has(run.runId) && run.settledAtMs <= olderThanMs - LOOK_UP_AFTER_MS);
  await lookUpOneByOne(stale.slice(0, PER_RUN_LOOKUPS));
  return pass;
}

/** True when the pass may go on (a run Runflow cannot find); false to stop until the next tick. */
async function handleError(deps: ReconcileDeps, error: unknown, what: string): Promise<boolean> {
  if (!isRunflowApiError(error)) throw error;
  if (error.status === 429) await deps.governor.penalize(error.retryAfterMs);
  deps.logger.info({ code: error.code, status: error.status, what }, 'spend reconciler: Runflow look-up failed');
  return error.kind === 'permanent';
}
