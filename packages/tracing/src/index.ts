export { SpanKind } from '@opentelemetry/api';
export {
  ATTR,
  inSpan,
  jobTraceContext,
  queueTelemetry,
  recordError,
  recordSpan,
  SPAN,
  type SpanOptions,
  TRACER_NAME,
} from './job-spans.ts';
export {
  type StartTracingOptions,
  startTracing,
  type Tracing,
  type TracingLogger,
  tracingActive,
} from './start-tracing.ts';
export { parseTracingEnv, SAMPLERS, type SamplerName, type TracingConfig, TracingEnv } from './tracing-env.ts';
