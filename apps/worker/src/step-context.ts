import type { RunflowClient } from '@runflow-queue/runflow-client';
import type { EditJobData, WorkloadQueue } from '@runflow-queue/shared';
import type {
  BudgetStore,
  CallbackInbox,
  InflightCaps,
  ModelIds,
  RateGovernor,
  SpendLedger,
} from '@runflow-queue/store';
import type { HoldsView } from './holds-monitor.ts';
import type { JobLog } from './job-log.ts';
import type { LifecycleConfig } from './lifecycle-config.ts';

/** What keeps a queue within the account's rate limit, its budget and the models' in-flight caps. */
export interface Governance {
  workload: WorkloadQueue;
  governor: Pick<RateGovernor, 'acquire' | 'penalize'>;
  budgets: Pick<BudgetStore, 'reserve' | 'release'>;
  /** Runs in flight per model under configured and learned caps; tells a cap's 429 from the rate limit's. */
  inflight: Pick<InflightCaps, 'acquire' | 'release' | 'created' | 'limited'>;
  modelCaps: Readonly<Partial<Record<string, { maxInFlight: number }>>>;
  /** BullMQ's manual rate limit of this queue: every worker of it stops pulling for `ms`. */
  rateLimitQueue: (ms: number) => Promise<void>;
}

/**
 * The I/O a step may do: only the calls it needs of each store and of the Runflow client, so a step
 * can be run on plain objects in a unit test and on the real ones in the fleet.
 */
export interface StepDeps {
  queue: string;
  client: Pick<RunflowClient, 'createRun' | 'getRun' | 'findRunsByClientRef'>;
  inbox: Pick<CallbackInbox, 'read' | 'has' | 'runForClientRef'>;
  ledger: Pick<SpendLedger, 'settle' | 'settleWaste'>;
  /** Learns Runflow's model uuid → our slug from create answers (unset: not learnt). */
  modelIds?: Pick<ModelIds, 'learn'>;
  lifecycle: LifecycleConfig;
  governance: Governance;
  /** The account's holds (breaker, credit, pauses), cached; unset: nothing ever holds (unit tests). */
  holds?: HoldsView;
  now: () => number;
}

/** One step's view of the job: its id and data, never the BullMQ job (the loop owns that). */
export interface StepContext<D extends EditJobData = EditJobData> {
  jobId: string;
  data: D;
  /**
   * True when this step was entered in this wake-up (the previous step returned `next`); false when
   * the job was found in it at dequeue — for `submitting`, that means an earlier POST may have
   * reached Runflow without an answer.
   */
  entered: boolean;
  deps: StepDeps;
  log: JobLog;
}
