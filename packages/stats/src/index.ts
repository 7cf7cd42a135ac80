export type { BudgetStatus } from '@runflow-queue/store';
export {
  type AccountHealth,
  type AccountHealthOptions,
  anyHold,
  type HealthRow,
  healthRows,
  type LearnedCap,
  readAccountHealth,
  renderHealth,
} from './account-health.ts';
export { collectStats, type FleetStats, type QueueStats } from './collect-stats.ts';
export { percentile } from './percentile.ts';
export { describeUnconfirmed, renderSpend, type UnconfirmedSummary } from './render-spend.ts';
export { renderStats } from './render-stats.ts';
export {
  CSV_HEADER,
  type ExportFormat,
  type ExportSummary,
  exportSpend,
  formatRecord,
  rowsInWindow,
} from './spend-export.ts';
