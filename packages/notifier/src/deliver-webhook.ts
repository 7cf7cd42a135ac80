import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { addressRejection, bareHost, type NotifyUrlPolicy, notifyUrlRejection } from '@runflow-queue/shared';
import { Agent, request } from 'undici';
import { signWebhook } from './sign-webhook.ts';
import type { NotificationJobData } from './webhook-payload.ts';

/** How names are resolved: node:dns `lookup` with `all: true` (injectable for tests). */
export type Resolver = (
  hostname: string,
  options: { all: true; family?: number | string | undefined; hints?: number | undefined },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/** A target the policy forbids: retrying cannot help. */
export class NotifyUrlRejectedError extends Error {
  readonly code = 'NOTIFY_URL_REJECTED';
  constructor(message: string) {
    super(message);
    this.name = 'NotifyUrlRejectedError';
  }
}

/**
 * A DNS lookup that refuses hosts resolving to forbidden addresses. It runs inside the connect, so
 * the address checked is the address dialled: a name cannot resolve to a public address for the
 * check and to 169.254.169.254 for the request (DNS rebinding). Any forbidden address fails the host.
 */
const systemResolver: Resolver = (hostname, options, callback) =>
  dnsLookup(
    hostname,
    { all: true, family: typeof options.family === 'number' ? options.family : 0, hints: options.hints },
    callback,
  );

export function guardedLookup(policy: NotifyUrlPolicy, resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const rejected = addresses.map((a) => addressRejection(a.address, policy)).find(Boolean);
      if (rejected || addresses.length === 0) {
        return callback(
          new NotifyUrlRejectedError(`${hostname} resolves to a forbidden address: ${rejected ?? 'none'}`),
          '',
          0,
        );
      }
      if ((options as { all?: boolean }).all)
        return (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
      return callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

export interface WebhookSenderOptions {
  /** Signing secret(s): several sign at once during a rotation. */
  secrets: readonly string[];
  policy: NotifyUrlPolicy;
  /** Per-attempt limit for the receiver's headers and body (default 10 s). */
  timeoutMs?: number;
  /** Name resolution (default node:dns lookup). */
  resolve?: Resolver;
}

export interface SendResult {
  status: number;
  ok: boolean;
}

/** Sends webhooks: one undici Agent whose every connection goes through the guarded lookup. */
export class WebhookSender {
  readonly #agent: Agent;
  readonly #options: WebhookSenderOptions;

  constructor(options: WebhookSenderOptions) {
    this.#options = options;
    const timeoutMs = options.timeoutMs ?? 10_000;
    this.#agent = new Agent({
      connect: { lookup: guardedLookup(options.policy, options.resolve), timeout: timeoutMs },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      keepAliveTimeout: 4_000,
    });
  }

  /** One attempt. Throws NotifyUrlRejectedError for a forbidden target; resolves with the status otherwise. */
  async send(data: NotificationJobData, nowS = Math.floor(Date.now() / 1000)): Promise<SendResult> {
    const rejection = notifyUrlRejection(data.url, this.#options.policy);
    if (rejection) throw new NotifyUrlRejectedError(`notifyUrl ${new URL(data.url).origin}: ${rejection}`);
    const response = await request(data.url, {
      method: 'POST',
      dispatcher: this.#agent,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'runflow-queue-webhooks/1',
        'webhook-id': data.webhookId,
        'webhook-timestamp': String(nowS),
        'webhook-signature': signWebhook(this.#options.secrets, data.webhookId, nowS, data.body),
      },
      body: data.body,
    });
    // The receiver's body is not ours to keep; read and drop it so the connection can be reused.
    await response.body.dump({ limit: 64 * 1024 }).catch(() => {});
    return { status: response.statusCode, ok: response.statusCode >= 200 && response.statusCode < 300 };
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** The host a URL names, for logs (never the path or query: they may carry the receiver's tokens). */
export function logTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${bareHost(parsed)}${parsed.port ? `:${parsed.port}` : ''}`;
  } catch {
    return '(invalid url)';
  }
}
