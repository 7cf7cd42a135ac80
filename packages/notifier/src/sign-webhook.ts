import { createHmac, timingSafeEqual } from 'node:crypto';

// Standard Webhooks (https://www.standardwebhooks.com): the signed content is
// "<webhook-id>.<webhook-timestamp>.<body>", HMAC-SHA256, base64, sent as "v1,<signature>".
// Several signatures may be sent space-separated (secret rotation); a receiver accepts any one.

/** The HMAC key of a secret: `whsec_<base64>` is decoded (the Standard Webhooks form); anything else is used as UTF-8. */
export function webhookKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret);
}

/** The `webhook-signature` header value: one `v1,<base64>` per secret, space-separated. */
export function signWebhook(
  secrets: string | readonly string[],
  webhookId: string,
  timestampS: number,
  body: string,
): string {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  return list
    .map((secret) => {
      const mac = createHmac('sha256', webhookKey(secret))
        .update(`${webhookId}.${timestampS}.${body}`)
        .digest('base64');
      return `v1,${mac}`;
    })
    .join(' ');
}

/** Request headers with lowercase names, e.g. node:http's `request.headers`; needs webhook-id, -timestamp, -signature. */
export type WebhookHeaders = Readonly<Record<string, string | string[] | undefined>>;

export type WebhookCheck = 'valid' | 'missing' | 'stale' | 'invalid';

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Verifies a delivery as a receiver should: all three headers present, the timestamp within
 * `toleranceS` of now (replay protection, default 5 min), and one `v1` signature matching, compared
 * in constant time. Pass the raw body exactly as received.
 */
export function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  rawBody: string,
  options: { toleranceS?: number; nowS?: number } = {},
): WebhookCheck {
  const id = header(headers['webhook-id']);
  const timestamp = header(headers['webhook-timestamp']);
  const signatures = header(headers['webhook-signature']);
  if (!id || !timestamp || !signatures) return 'missing';
  const nowS = options.nowS ?? Math.floor(Date.now() / 1000);
  if (!/^\d+$/.test(timestamp) || Math.abs(nowS - Number(timestamp)) > (options.toleranceS ?? 300)) return 'stale';
  const expected = Buffer.from(signWebhook(secret, id, Number(timestamp), rawBody).slice('v1,'.length), 'base64');
  let matched = false;
  for (const candidate of signatures.split(' ')) {
    const [version, value] = candidate.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  return matched ? 'valid' : 'invalid';
}
