import type { Server, ServerResponse } from 'node:http';
import { sendError } from './http-io.ts';

/**
 * A Runflow outage: `unavailable` — every /v1 request (create, get, search, balance, health) answers
 * 503 SERVICE_UNAVAILABLE; `refused` — the port stops accepting connections (open keep-alive sockets
 * are closed, so clients meet ECONNREFUSED); `off` — normal service. Runs already on Runflow keep
 * going and their callbacks are still sent: an outage of the API, not of the fleet behind it.
 */
export type OutageMode = 'off' | 'unavailable' | 'refused';

export const OUTAGE_MODES: readonly OutageMode[] = ['off', 'unavailable', 'refused'];

export function checkOutageMode(mode: unknown): OutageMode {
  if (typeof mode === 'string' && (OUTAGE_MODES as readonly string[]).includes(mode)) return mode as OutageMode;
  throw new RangeError(`outage must be one of ${OUTAGE_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
}

export function sendOutage(response: ServerResponse): void {
  sendError(response, 503, 'SERVICE_UNAVAILABLE', 'Service temporarily unavailable (simulated outage)');
}

/** Stops accepting on the server's port (`refused`) or listens on it again; resolves when done. */
export async function setListening(server: Server, listen: boolean, port: number, host: string): Promise<void> {
  if (listen === server.listening) return;
  if (!listen) {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return;
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
