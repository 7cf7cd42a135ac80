import { describe, expect, it } from 'vitest';
import { parseTracingEnv } from './tracing-env.ts';

const app = { app: 'worker', serviceName: 'runflow-queue-worker' };

describe('parseTracingEnv', () => {
  it('is off by default, and with an endpoint but OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED=true', () => {
    expect(parseTracingEnv({}, app)).toEqual({ enabled: false });
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(parseTracingEnv({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }, app)).toEqual({ enabled: false });
    expect(parseTracingEnv({ ...endpoint, OTEL_SDK_DISABLED: 'true' }, app)).toEqual({ enabled: false });
  });

  it('turns on with an endpoint: the traces path appended, the app service name, parent-based always-on', () => {
    const config = parseTracingEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }, app);
    expect(config).toMatchObject({
      enabled: true,
      serviceName: 'runflow-queue-worker',
      exporter: 'otlp',
      url: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      sampler: 'parentbased_always_on',
      ratio: 1,
      batch: { scheduledDelayMillis: 5_000 },
    });
  });

  it('takes the signal URL as given, OTEL_SERVICE_NAME, the protocol, the sampler and its ratio', () => {
    const config = parseTracingEnv(
      {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://jaeger:4318/v1/traces',
        OTEL_SERVICE_NAME: 'edits-worker-eu',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.1',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
      app,
    );
    expect(config).toMatchObject({
      url: 'http://jaeger:4318/v1/traces',
      serviceName: 'edits-worker-eu',
      protocol: 'http/json',
      sampler: 'parentbased_traceidratio',
      ratio: 0.1,
      batch: { scheduledDelayMillis: 100 },
    });
  });

  it('names the variable, the value and what to use for a bad sampler, ratio or protocol', () => {
    expect(() => parseTracingEnv({ OTEL_TRACES_SAMPLER: 'sometimes' }, app)).toThrow(
      /OTEL_TRACES_SAMPLER="sometimes": use one of always_on, .*parentbased_traceidratio \(e\.g\. parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG=0\.1\)/,
    );
    expect(() => parseTracingEnv({ OTEL_TRACES_SAMPLER_ARG: '10' }, app)).toThrow(
      /OTEL_TRACES_SAMPLER_ARG="10": a ratio from 0 to 1/,
    );
    expect(() => parseTracingEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, app)).toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL="grpc": .*grpc is not supported/,
    );
    expect(() => parseTracingEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, app)).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318": the OTLP base URL must be an http\(s\) URL/,
    );
  });
});
