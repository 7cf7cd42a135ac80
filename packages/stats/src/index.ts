export { type BudgetStatus, collectStats, type FleetStats, type QueueStats } from './collect-stats.ts';
export { percentile } from './percentile.ts';
export { renderSpend } from './render-spend.ts';
export { renderStats } from './render-stats.ts';
