import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook, type WebhookCheck, type WebhookPayload } from '@runflow-queue/notifier';

export interface ReceivedWebhook {
  webhookId: string;
  timestamp: number;
  check: WebhookCheck;
  status: number;
  duplicate: boolean;
  payload: WebhookPayload;
  headers: IncomingHttpHeaders;
}

export interface WebhookReceiver {
  url: string;
  /** Every request, in arrival order. */
  received: ReceivedWebhook[];
  /** Deliveries that were verified and answered 2xx: what the receiver acted on. */
  accepted(): ReceivedWebhook[];
  close(): Promise<void>;
}

/**
 * A receiver as a caller would write one (node:http): verify the Standard Webhooks signature over the
 * raw body, drop a webhook-id already handled, act on the rest. `failFirst` answers 500 to the first
 * delivery of each webhook-id, to make the sender retry.
 */
export async function startReceiver(secret: string, options: { failFirst?: boolean } = {}): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const seen = new Set<string>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const check = verifyWebhook(secret, request.headers, raw);
      const webhookId = String(request.headers['webhook-id']);
      let status = 200;
      if (check !== 'valid') status = 401;
      else if (options.failFirst && !received.some((r) => r.webhookId === webhookId)) status = 500;
      // A webhook-id handled before is acknowledged and not acted on again.
      const duplicate = status === 200 && seen.has(webhookId);
      received.push({
        webhookId,
        timestamp: Number(request.headers['webhook-timestamp']),
        check,
        status,
        duplicate,
        payload: JSON.parse(raw) as WebhookPayload,
        headers: request.headers,
      });
      if (status === 200) seen.add(webhookId);
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/runflow?token=caller-secret`,
    received,
    accepted: () => received.filter((r) => r.status === 200 && !r.duplicate),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
