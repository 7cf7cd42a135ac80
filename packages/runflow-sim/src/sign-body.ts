import { createHmac } from 'node:crypto';

/** `Runflow-Signature`: lowercase hex HMAC-SHA256 of the exact raw body bytes. */
export function signBody(secret: string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}
