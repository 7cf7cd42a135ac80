import { context, propagation, trace } from '@opentelemetry/api';
import type { SamplerName, TracingConfig } from './tracing-env.ts';

// The OpenTelemetry SDK of a process, set up in one place. Off: nothing here is even loaded (the SDK
// modules are imported only when tracing is on), the global API stays the no-op one, and every span
// the code starts is a no-op span of @opentelemetry/api. On: a tracer provider with one batching
// OTLP/HTTP exporter, W3C trace-context propagation, AsyncLocalStorage context, and the maintained
// instrumentations — undici (the Runflow client, webhooks) and @fastify/otel (the HTTP apps).

export interface TracingLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface StartTracingOptions {
  logger?: TracingLogger;
  /**
   * Instrument fastify apps created after this (default true). Off for callback-ingest: its one route
   * starts its span by hand, in the trace of the job the callback is for (Runflow sends no context).
   */
  fastify?: boolean;
}

export interface Tracing {
  enabled: boolean;
  /** Exports whatever is buffered now. */
  flush(): Promise<void>;
  /** Flushes and stops the SDK (call last, after everything that makes spans has closed). */
  shutdown(): Promise<void>;
}

let started = false;

/** True once startTracing has started the SDK in this process. */
export function tracingActive(): boolean {
  return started;
}

const OFF: Tracing = { enabled: false, flush: async () => {}, shutdown: async () => {} };

/** Routes never traced: probes and scrapes would drown the traces that matter. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export async function startTracing(config: TracingConfig, options: StartTracingOptions = {}): Promise<Tracing> {
  if (!config.enabled || started) return OFF;
  const [sdk, hooks, core, resources, semconv, instrumentation, undici] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
    import('@opentelemetry/instrumentation'),
    import('@opentelemetry/instrumentation-undici'),
  ]);
  const exporter =
    config.exporter === 'console'
      ? new sdk.ConsoleSpanExporter()
      : config.protocol === 'http/json'
        ? new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter({ url: config.url })
        : new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter({ url: config.url });
  const resource = resources
    .resourceFromAttributes({ [semconv.ATTR_SERVICE_NAME]: config.serviceName })
    .merge(resources.detectResources({ detectors: [resources.resourceAttributesEnvDetector] }));
  const provider = new sdk.TracerProvider({
    resource,
    sampler: buildSampler(sdk, config.sampler, config.ratio),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter, ...config.batch })],
  });
  context.setGlobalContextManager(new hooks.AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new core.CompositePropagator({
      propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()],
    }),
  );
  trace.setGlobalTracerProvider(provider);

  // Each instrumentation brings its own copy of @opentelemetry/instrumentation; they meet on the
  // Instrumentation interface (enable, disable, setTracerProvider), which is all registration uses.
  const instrumentations: unknown[] = [new undici.UndiciInstrumentation()];
  if (options.fastify !== false) {
    const { FastifyOtelInstrumentation } = await import('@fastify/otel');
    instrumentations.push(
      new FastifyOtelInstrumentation({
        // Every fastify instance built from now on, without a plugin line in each app.
        registerOnInitialization: true,
        ignorePaths: (route: { url: string }) => UNTRACED_PATHS.has(route.url),
        // One span per request and one for its handler; a span per lifecycle hook is noise here.
        instrumentHooks: false,
      }),
    );
  }
  const unregister = instrumentation.registerInstrumentations({
    tracerProvider: provider,
    instrumentations: instrumentations as Parameters<
      typeof instrumentation.registerInstrumentations
    >[0]['instrumentations'],
  });
  started = true;
  options.logger?.info(
    {
      serviceName: config.serviceName,
      exporter: config.exporter,
      url: config.exporter === 'otlp' ? config.url : undefined,
      protocol: config.protocol,
      sampler: config.sampler,
      ratio: config.sampler.endsWith('traceidratio') ? config.ratio : undefined,
    },
    'tracing on',
  );
  return {
    enabled: true,
    flush: () => provider.forceFlush(),
    async shutdown() {
      unregister();
      await provider.shutdown().catch((error: unknown) => {
        options.logger?.warn({ err: (error as Error).message }, 'could not flush traces');
      });
      started = false;
    },
  };
}

type SdkModule = typeof import('@opentelemetry/sdk-trace');

function buildSampler(sdk: SdkModule, name: SamplerName, ratio: number) {
  switch (name) {
    case 'always_on':
      return new sdk.AlwaysOnSampler();
    case 'always_off':
      return new sdk.AlwaysOffSampler();
    case 'traceidratio':
      return new sdk.TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(ratio) });
  }
}
