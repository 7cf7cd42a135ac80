import {
  type Attributes,
  type Context,
  context,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  ProxyTracerProvider,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { BullMQOtel } from 'bullmq-otel';
import { tracingActive } from './start-tracing.ts';

// The job-lifecycle spans, written by hand (no library knows our steps), and how a job carries its
// trace: BullMQ's telemetry option (bullmq-otel) stores the W3C context of the enqueue in the job
// (`opts.telemetry.metadata`, JSON of the propagation headers); every process that acts on the job
// later — a worker at each wake-up, ingest for its callback — continues that trace.

export const TRACER_NAME = 'runflow-queue';

/** A ProxyTracer: it follows whatever provider is registered, and is the API's no-op until one is. */
const tracer = trace.getTracer(TRACER_NAME);

/** Span names of the job lifecycle (the README's span tree uses these). */
export const SPAN = {
  enqueue: 'enqueue',
  admit: 'admit',
  submit: 'submit',
  parked: 'parked',
  callback: 'callback received',
  finalize: 'finalize',
  settle: 'settle',
  notify: 'notify webhook',
} as const;

/** Attribute names: the fields every job log line carries, under one namespace. */
export const ATTR = {
  queue: 'rfq.queue',
  model: 'rfq.model',
  jobId: 'rfq.jobId',
  runId: 'rfq.runId',
  clientRef: 'rfq.clientRef',
  costMicroUsd: 'rfq.costMicroUsd',
  /** How the result came: `callback` or `poll`. */
  completedBy: 'rfq.completedBy',
  /** Why a job parked (`run submitted`, `polling`, `rate limit`, …). */
  parkReason: 'rfq.parkReason',
  /** The coded reason of a failure (also set as the standard `error.type`). */
  errorCode: 'rfq.errorCode',
} as const;

let telemetry: BullMQOtel | undefined;

/**
 * BullMQ's `telemetry` option for every Queue and Worker: carries the trace context in each job and
 * makes BullMQ's own producer/consumer spans. Undefined (no propagation work at all) unless tracing is
 * on in this process — started by startTracing, or a service embedding the producer registered its
 * own OpenTelemetry SDK first.
 */
export function queueTelemetry(): BullMQOtel | undefined {
  if (!tracingActive() && !hostTracerRegistered()) return undefined;
  telemetry ??= new BullMQOtel({ tracerName: 'bullmq' });
  return telemetry;
}

function hostTracerRegistered(): boolean {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider ? provider.getDelegateTracer(TRACER_NAME) !== undefined : true;
}

/** The trace context a job carries (BullMQ's telemetry metadata), or undefined when it has none. */
export function jobTraceContext(metadata: string | undefined): Context | undefined {
  if (!metadata) return undefined;
  let carrier: unknown;
  try {
    carrier = JSON.parse(metadata);
  } catch {
    return undefined;
  }
  if (typeof carrier !== 'object' || carrier === null) return undefined;
  const extracted = propagation.extract(ROOT_CONTEXT, carrier);
  const spanContext = trace.getSpanContext(extracted);
  return spanContext && isSpanContextValid(spanContext) ? extracted : undefined;
}

export interface SpanOptions {
  kind?: SpanKind;
  /** Built only when the span records (a no-op span costs no attribute object). */
  attributes?: () => Attributes;
  /** Parent context (default: the active one). */
  parent?: Context;
  startTime?: number;
}

/**
 * Runs `fn` in a new active span: ended when `fn` settles; a throw is recorded (with its code) and
 * rethrown. Off, this is the API's no-op span.
 */
export function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  // Nothing traces in this process: no span, no context switch, no wrapper per call (several per job).
  if (!tracingActive() && !hostTracerRegistered()) return fn(NOT_RECORDING);
  return tracer.startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, startTime: options.startTime },
    options.parent ?? context.active(),
    async (span) => {
      if (span.isRecording() && options.attributes) span.setAttributes(options.attributes());
      try {
        return await fn(span);
      } catch (error) {
        recordError(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** What `fn` gets while nothing traces: the API's own non-recording span, one for every call. */
const NOT_RECORDING: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** A finished span with explicit times (a park, known only at wake-up). */
export function recordSpan(
  name: string,
  options: SpanOptions & { startTime: number; endTime: number; error?: { code: string; message: string } },
): void {
  const span = tracer.startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, startTime: options.startTime },
    options.parent ?? context.active(),
  );
  if (span.isRecording()) {
    if (options.attributes) span.setAttributes(options.attributes());
    if (options.error) recordError(span, options.error);
  }
  span.end(options.endTime);
}

/** A coded failure on a span: status ERROR, `error.type` and `rfq.errorCode` = the code, an exception event. */
export function recordError(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  const message = error instanceof Error ? error.message : String((error as { message?: unknown })?.message ?? error);
  const code = errorCode(error, message);
  span.recordException({ name: code, code, message });
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.setAttributes({ 'error.type': code, [ATTR.errorCode]: code });
}

/** The error's own `code`, else the CODE of a "CODE: message" reason (how jobs fail), else its name. */
function errorCode(error: unknown, message: string): string {
  const own = (error as { code?: unknown })?.code;
  if (typeof own === 'string' && own !== '') return own;
  const prefix = /^([A-Z][A-Z0-9_]+):/.exec(message)?.[1];
  if (prefix) return prefix;
  return error instanceof Error ? error.name : 'Error';
}
