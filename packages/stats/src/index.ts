export { type BudgetStatus, collectStats, type FleetStats, type QueueStats } from './collect-stats.ts';
export { percentile } from './percentile.ts';
export { renderStats } from './render-stats.ts';
