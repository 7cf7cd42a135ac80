import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NotifyUrlRejectedError, type Resolver, WebhookSender } from './deliver-webhook.ts';
import { verifyWebhook } from './sign-webhook.ts';
import type { NotificationJobData } from './webhook-payload.ts';

const SECRET = 'test-signing-secret-0123';

const delivery = (url: string): NotificationJobData => ({
  url,
  webhookId: 'edits:42',
  type: 'edit.completed',
  body: '{"type":"edit.completed","id":"42"}',
  editQueue: 'edits',
  editJobId: '42',
});

/** A resolver that answers every name with `address`, as a rebinding DNS server would. */
const resolveTo =
  (address: string): Resolver =>
  (_hostname, _options, callback) =>
    callback(null, [{ address, family: address.includes(':') ? 6 : 4 }]);

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('WebhookSender', () => {
  it('POSTs the body with the Standard Webhooks headers a receiver can verify', async () => {
    let seen: { headers: IncomingHttpHeaders; body: string } | undefined;
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        seen = { headers: request.headers, body };
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const sender = new WebhookSender({ secrets: [SECRET], policy: { allowHttpLoopback: true } });
    closers.push(() => sender.close());
    const { port } = server.address() as AddressInfo;
    expect(await sender.send(delivery(`http://127.0.0.1:${port}/hook`))).toEqual({ status: 204, ok: true });
    expect(seen?.body).toBe('{"type":"edit.completed","id":"42"}');
    expect(seen?.headers['webhook-id']).toBe('edits:42');
    expect(verifyWebhook(SECRET, seen?.headers ?? {}, seen?.body ?? '')).toBe('valid');
  });

  it('refuses a name that resolves to a private or loopback address, at connect time', async () => {
    for (const address of ['10.0.0.7', '169.254.169.254', '127.0.0.1', 'fd00::1']) {
      const sender = new WebhookSender({ secrets: [SECRET], policy: {}, resolve: resolveTo(address) });
      closers.push(() => sender.close());
      const error = await sender.send(delivery('https://hooks.example.com/runflow')).catch((e: unknown) => e);
      const rejected = error instanceof NotifyUrlRejectedError ? error : (error as { cause?: unknown }).cause;
      expect(rejected, address).toBeInstanceOf(NotifyUrlRejectedError);
      expect((rejected as Error).message).toContain(address);
    }
  });

  it('refuses a forbidden URL before any connection', async () => {
    const sender = new WebhookSender({ secrets: [SECRET], policy: {} });
    closers.push(() => sender.close());
    await expect(sender.send(delivery('http://hooks.example.com/x'))).rejects.toThrow(NotifyUrlRejectedError);
    await expect(sender.send(delivery('https://192.168.0.10/x'))).rejects.toThrow(/private network/);
  });
});
