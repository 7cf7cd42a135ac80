import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError } from './http-io.ts';
import { contentTypeFor, isOutputFormat, outputImage } from './images.ts';
import type { RunStore } from './run-store.ts';

// GET /outputs/{runId}/{index}.{png|jpeg|webp}: the output files, unauthenticated like Runflow's
// presigned URLs. Only outputs a succeeded run actually produced exist.

const OUTPUT_PATH = /^\/outputs\/([^/]+)\/(\d+)\.([a-z]+)$/;

export function handleOutput(
  store: RunStore,
  request: IncomingMessage,
  response: ServerResponse,
  pathname: string,
): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    sendError(response, 405, 'METHOD_NOT_ALLOWED', 'Method not allowed; use GET', null, { allow: 'GET' });
    return;
  }
  const match = OUTPUT_PATH.exec(pathname);
  const run = match ? store.get(match[1]) : undefined;
  const index = match ? Number(match[2]) : -1;
  const format = match?.[3];
  if (run?.status !== 'succeeded' || index >= run.images || format !== run.outputFormat || !isOutputFormat(format)) {
    sendError(response, 404, 'NOT_FOUND', `No output at ${pathname}`);
    return;
  }
  const bytes = outputImage(run.id, index, format);
  response.writeHead(200, {
    'content-type': contentTypeFor(format),
    'content-length': bytes.length,
    'cache-control': 'private, max-age=259200', // Runflow's presigned output URLs live about 3 days
  });
  response.end(request.method === 'HEAD' ? undefined : bytes);
}
