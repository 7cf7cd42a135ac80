// What the container check found, as the table prints it and as `--json` writes it. Money is integer
// µUSD; times are ms.

export interface BaseImageRow {
  name: string;
  source: string;
  contents: string;
  ms: number;
}

export interface StackResult {
  jobs: number;
  completed: number;
  failed: number;
  lost: number;
  failureCodes: Record<string, number>;
  byModel: Record<string, number>;
  lostJobs: { id: string; state: string }[];
  replicas: { initial: number; scaledTo: number; sigtermed: number; final: number };
  sigterm: { container: string; exitCode: number; stopMs: number };
  health: Record<string, { status: number; ok: boolean }>;
  dashboardWithoutCredentials: number;
  ledgerMicroUsd: number;
  ledgerWasteMicroUsd: number;
  simBilledMicroUsd: number;
  ledgerAfterRestartMicroUsd: number;
  jobsAfterRestart: { found: number; sameState: number };
  prometheus: {
    jobsTotal: number | undefined;
    spendCounterMicroUsd: number | undefined;
    ledgerGaugeMicroUsd: number | undefined;
    workerTargetsUp: number | undefined;
    /** Alerting rules Prometheus loaded from infra/prometheus/alerts.yml. */
    alertRules: number;
  };
  notStarted: Record<string, string>;
  startMs: number;
  jobsMs: number;
  restartMs: number;
  problems: string[];
}

export interface CheckReport extends StackResult {
  ok: boolean;
  image: string;
  imageBytes: number;
  buildMs: number;
  baseImagesMs: number;
  baseImages: BaseImageRow[];
  totalMs: number;
}
