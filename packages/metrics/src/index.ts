export { type BudgetWindowStatus, setBudgetGauges } from './budget-gauges.ts';
export {
  type AppMetrics,
  createDashboardMetrics,
  createIngestMetrics,
  createMetrics,
  createWorkerMetrics,
  type DashboardMetrics,
  type IngestMetrics,
  type MetricsOptions,
  type WorkerMetrics,
} from './create-metrics.ts';
export {
  type AppName,
  METRIC_CATALOG,
  type MetricKey,
  type MetricSpec,
  type MetricType,
  metricNamesOf,
  QUEUE_DEPTH_STATES,
  type QueueDepthState,
} from './metric-catalog.ts';
export { type MetricsServer, type MetricsServerLogger, startMetricsServer } from './metrics-server.ts';
export { type PeriodicCollector, startPeriodicCollector } from './periodic-collector.ts';
export { type JobCountsSource, type QueueDepth, readQueueDepth, setQueueDepth } from './queue-depth.ts';
