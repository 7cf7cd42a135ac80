import { parseConfig, RunflowQueueError } from '@runflow-queue/shared';
import { z } from 'zod';

// The standard OTEL_* variables this system reads (the OpenTelemetry SDK environment specification),
// validated at boot like every other variable: a bad value exits 78 naming the variable. Tracing is
// OFF unless an OTLP endpoint or OTEL_TRACES_EXPORTER says otherwise.

export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** The spec treats an empty variable as unset. */
const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfEmpty, schema.optional());
const count = (fallback: number) => z.preprocess(unsetIfEmpty, z.coerce.number().int().positive().default(fallback));
const httpUrl = (what: string) =>
  z.url({
    protocol: /^https?$/,
    error: `${what} must be an http(s) URL, e.g. http://localhost:4318 (OTLP over HTTP)`,
  });

export const TracingEnv = z.object({
  OTEL_SDK_DISABLED: z.preprocess(
    unsetIfEmpty,
    z
      .enum(['true', 'false'], { error: 'use true or false' })
      .default('false')
      .transform((v) => v === 'true'),
  ),
  OTEL_TRACES_EXPORTER: optional(
    z.enum(['otlp', 'console', 'none'], {
      error: 'use otlp (OTLP over HTTP, the default once an endpoint is set), console, or none',
    }),
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: optional(httpUrl('the OTLP base URL')),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optional(httpUrl('the OTLP traces URL')),
  OTEL_EXPORTER_OTLP_PROTOCOL: optional(
    z.enum(['http/protobuf', 'http/json'], {
      error: 'use http/protobuf (default) or http/json; grpc is not supported, send OTLP/HTTP to port 4318',
    }),
  ),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: optional(
    z.enum(['http/protobuf', 'http/json'], {
      error: 'use http/protobuf (default) or http/json; grpc is not supported, send OTLP/HTTP to port 4318',
    }),
  ),
  OTEL_SERVICE_NAME: optional(z.string()),
  OTEL_TRACES_SAMPLER: z.preprocess(
    unsetIfEmpty,
    z
      .enum(SAMPLERS, {
        error: `use one of ${SAMPLERS.join(', ')} (e.g. parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG=0.1)`,
      })
      .default('parentbased_always_on'),
  ),
  OTEL_TRACES_SAMPLER_ARG: optional(
    z.coerce
      .number({ error: 'a ratio from 0 to 1, e.g. 0.1 to keep one trace in ten' })
      .min(0, 'a ratio from 0 to 1, e.g. 0.1 to keep one trace in ten')
      .max(1, 'a ratio from 0 to 1, e.g. 0.1 to keep one trace in ten'),
  ),
  /** Batch span processor: ms between exports (spec default 5 000), export timeout, queue and batch sizes. */
  OTEL_BSP_SCHEDULE_DELAY: count(5_000),
  OTEL_BSP_EXPORT_TIMEOUT: count(30_000),
  OTEL_BSP_MAX_QUEUE_SIZE: count(2_048),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: count(512),
});
export type TracingEnv = z.infer<typeof TracingEnv>;

export type TracingConfig =
  | { enabled: false }
  | {
      enabled: true;
      serviceName: string;
      exporter: 'otlp' | 'console';
      /** The full traces URL (…/v1/traces). */
      url: string;
      protocol: 'http/protobuf' | 'http/json';
      sampler: SamplerName;
      /** For the *traceidratio samplers (spec default 1). */
      ratio: number;
      batch: {
        scheduledDelayMillis: number;
        exportTimeoutMillis: number;
        maxQueueSize: number;
        maxExportBatchSize: number;
      };
    };

/**
 * The tracing configuration of an app, from its environment. On when OTEL_TRACES_EXPORTER is otlp or
 * console, or when an OTLP endpoint is set and OTEL_TRACES_EXPORTER is not `none`; off otherwise, and
 * always off with OTEL_SDK_DISABLED=true. Throws CONFIG_INVALID naming each bad variable.
 */
export function parseTracingEnv(
  source: Record<string, string | undefined>,
  options: { app: string; serviceName: string },
): TracingConfig {
  const env = parseConfig(TracingEnv, source, { app: options.app });
  const endpointSet =
    env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined;
  const exporter = env.OTEL_TRACES_EXPORTER ?? (endpointSet ? 'otlp' : 'none');
  if (env.OTEL_SDK_DISABLED || exporter === 'none') return { enabled: false };
  if (env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE > env.OTEL_BSP_MAX_QUEUE_SIZE) {
    // The same shape of message as parseConfig's, for the one rule that spans two variables.
    throw new RunflowQueueError(
      'CONFIG_INVALID',
      `invalid ${options.app} configuration:\n  OTEL_BSP_MAX_EXPORT_BATCH_SIZE=${JSON.stringify(String(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE))}: must not exceed OTEL_BSP_MAX_QUEUE_SIZE (${env.OTEL_BSP_MAX_QUEUE_SIZE}); lower it or raise the queue size`,
    );
  }
  // The signal-specific URL is used as given; the base URL gets the signal's path (the spec's rule).
  const base = (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318').replace(/\/+$/, '');
  return {
    enabled: true,
    serviceName: env.OTEL_SERVICE_NAME ?? options.serviceName,
    exporter,
    url: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? `${base}/v1/traces`,
    protocol: env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
    sampler: env.OTEL_TRACES_SAMPLER,
    ratio: env.OTEL_TRACES_SAMPLER_ARG ?? 1,
    batch: {
      scheduledDelayMillis: env.OTEL_BSP_SCHEDULE_DELAY,
      exportTimeoutMillis: env.OTEL_BSP_EXPORT_TIMEOUT,
      maxQueueSize: env.OTEL_BSP_MAX_QUEUE_SIZE,
      maxExportBatchSize: env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
    },
  };
}
