import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type AppName, METRIC_CATALOG, type MetricKey } from './metric-catalog.ts';

type Catalog = typeof METRIC_CATALOG;
type LabelsOf<K extends MetricKey> = Catalog[K]['labelNames'][number];
type Instrument<K extends MetricKey> = Catalog[K]['type'] extends 'counter'
  ? Counter<LabelsOf<K>>
  : Catalog[K]['type'] extends 'gauge'
    ? Gauge<LabelsOf<K>>
    : Histogram<LabelsOf<K>>;

/** The instruments of one app, named by their catalogue key, plus the registry /metrics serves. */
export type AppMetrics<A extends AppName> = {
  readonly [K in MetricKey as A extends Catalog[K]['apps'][number] ? K : never]: Instrument<K>;
} & { readonly registry: Registry };

export type WorkerMetrics = AppMetrics<'worker'>;
export type IngestMetrics = AppMetrics<'callback-ingest'>;
export type DashboardMetrics = AppMetrics<'dashboard'>;

export interface MetricsOptions {
  /**
   * Also export prom-client's default process_* and nodejs_* metrics (CPU, memory, event-loop lag).
   * On in the apps' main.ts; off by default, because each registry that has them samples the event loop.
   */
  defaultMetrics?: boolean;
}

function instrument(registry: Registry, key: MetricKey) {
  const spec = METRIC_CATALOG[key];
  const config = { name: spec.name, help: spec.help, labelNames: spec.labelNames, registers: [registry] };
  switch (spec.type) {
    case 'counter':
      return new Counter(config);
    case 'gauge':
      return new Gauge(config);
    case 'histogram':
      return new Histogram({ ...config, buckets: [...(('buckets' in spec && spec.buckets) || [])] });
  }
}

/** A fresh registry (never prom-client's global one) holding the app's metrics from the catalogue. */
export function createMetrics<A extends AppName>(app: A, options: MetricsOptions = {}): AppMetrics<A> {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const metrics: Record<string, unknown> = { registry };
  for (const key of Object.keys(METRIC_CATALOG) as MetricKey[]) {
    if ((METRIC_CATALOG[key].apps as readonly AppName[]).includes(app)) metrics[key] = instrument(registry, key);
  }
  return metrics as AppMetrics<A>;
}

export const createWorkerMetrics = (options?: MetricsOptions): WorkerMetrics => createMetrics('worker', options);
export const createIngestMetrics = (options?: MetricsOptions): IngestMetrics =>
  createMetrics('callback-ingest', options);
export const createDashboardMetrics = (options?: MetricsOptions): DashboardMetrics =>
  createMetrics('dashboard', options);
