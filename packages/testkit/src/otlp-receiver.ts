import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

// A real OTLP/HTTP trace receiver, as a collector is one: POST /v1/traces, bodies decoded from the
// OTLP/JSON encoding (ExportTraceServiceRequest; trace and span ids in hex). Protobuf bodies are
// counted (for benchmarks that only need the exporter's work done) but not decoded: a test that wants
// spans sets OTEL_EXPORTER_OTLP_PROTOCOL=http/json.

/** One span as received, flattened: its service (resource `service.name`) and decoded attributes. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, unknown>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: { code: number; message?: string };
  events: { name: string; attributes: Record<string, unknown> }[];
}

export interface OtlpReceiver {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces). */
  url: string;
  spans(): ReceivedSpan[];
  /** Export requests received, and their body bytes, whatever the encoding. */
  stats(): { requests: number; bytes: number; protobufRequests: number };
  close(): Promise<void>;
}

interface OtlpValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: OtlpValue[] };
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: OtlpKeyValue[];
  status?: { code?: number; message?: string };
  events?: { name: string; attributes?: OtlpKeyValue[] }[];
}
interface ExportTraceServiceRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

function decodeValue(value: OtlpValue | undefined): unknown {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(decodeValue);
  return undefined;
}

function decodeAttributes(attributes: OtlpKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((attributes ?? []).map((kv) => [kv.key, decodeValue(kv.value)]));
}

/** Decodes one OTLP/JSON ExportTraceServiceRequest into flat spans. */
export function decodeOtlpJson(body: ExportTraceServiceRequest): ReceivedSpan[] {
  return (body.resourceSpans ?? []).flatMap((resourceSpans) => {
    const service = String(decodeAttributes(resourceSpans.resource?.attributes)['service.name'] ?? '');
    return (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({
        service,
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        kind: span.kind ?? 0,
        startTimeUnixNano: BigInt(span.startTimeUnixNano ?? 0),
        endTimeUnixNano: BigInt(span.endTimeUnixNano ?? 0),
        attributes: decodeAttributes(span.attributes),
        status: { code: span.status?.code ?? 0, message: span.status?.message },
        events: (span.events ?? []).map((event) => ({
          name: event.name,
          attributes: decodeAttributes(event.attributes),
        })),
      })),
    );
  });
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export async function startOtlpReceiver(options: { host?: string } = {}): Promise<OtlpReceiver> {
  const received: ReceivedSpan[] = [];
  const counts = { requests: 0, bytes: 0, protobufRequests: 0 };
  const server = createServer(async (request, response) => {
    if (request.method !== 'POST' || request.url !== '/v1/traces') {
      response.writeHead(404).end();
      return;
    }
    const body = await readBody(request);
    counts.requests += 1;
    counts.bytes += body.length;
    const type = request.headers['content-type'] ?? '';
    if (type.startsWith('application/x-protobuf')) {
      counts.protobufRequests += 1;
      // An empty ExportTraceServiceResponse is zero bytes in protobuf.
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      return;
    }
    if (!type.startsWith('application/json')) {
      response.writeHead(415, { 'content-type': 'application/json' }).end('{"error":"send OTLP/JSON"}');
      return;
    }
    try {
      received.push(...decodeOtlpJson(JSON.parse(body.toString('utf8')) as ExportTraceServiceRequest));
    } catch (error) {
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(error) }));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => [...received],
    stats: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
