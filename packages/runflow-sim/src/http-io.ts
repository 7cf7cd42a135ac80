import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** Request bodies over this are refused with 413: real create bodies are a few KB. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface ErrorItem {
  loc: (string | number)[];
  msg: string;
  type?: string;
}

/** Runflow's error envelope (runflow-api.md §5). */
export interface ErrorEnvelope {
  code: string;
  message: string;
  errors: ErrorItem[] | null;
}

export class BodyTooLargeError extends Error {
  constructor() {
    super(`request body is over ${MAX_BODY_BYTES} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export function readBody(request: IncomingMessage, limitBytes = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        request.removeAllListeners('data');
        request.resume();
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  sendRawJson(response, status, JSON.stringify(body), headers);
}

export function sendRawJson(
  response: ServerResponse,
  status: number,
  json: string,
  headers: OutgoingHttpHeaders = {},
): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
    ...headers,
  });
  response.end(json);
}

export function sendError(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  errors: ErrorItem[] | null = null,
  headers: OutgoingHttpHeaders = {},
): void {
  const envelope: ErrorEnvelope = { code, message, errors };
  sendJson(response, status, envelope, headers);
}

/** Parses a JSON body, keeping the parser's reason when it is not JSON (an empty body is not). */
export function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a JSON body (an empty body reads as null); answers 413/400 itself and returns undefined then. */
export async function readRequestJson(
  request: IncomingMessage,
  response: ServerResponse,
): Promise<{ value: unknown } | undefined> {
  let raw: Buffer;
  try {
    raw = await readBody(request);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      sendError(response, 413, 'PAYLOAD_TOO_LARGE', error.message, null, { connection: 'close' });
      return undefined;
    }
    throw error;
  }
  if (raw.length === 0) return { value: null };
  const parsed = parseJson(raw);
  if (!parsed.ok) {
    sendError(response, 400, 'BAD_REQUEST', `Malformed JSON body: ${parsed.reason}`);
    return undefined;
  }
  return { value: parsed.value };
}

/** decodeURIComponent that leaves a malformed escape as it is instead of throwing. */
export function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
