import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = 'valid' | 'missing' | 'invalid';

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * Runflow-Signature is the lowercase hex HMAC-SHA256 of the raw body. Every trusted secret is tried
 * (rotation keeps old and new trusted at once), each with a constant-time compare, and all of them
 * always, so timing does not reveal which secret matched.
 */
export function verifySignature(
  rawBody: Buffer,
  header: string | undefined,
  secrets: readonly string[],
): SignatureCheck {
  if (header === undefined || header === '') return 'missing';
  const signature = header.trim().toLowerCase();
  if (!HEX_SHA256.test(signature)) return 'invalid';
  const given = Buffer.from(signature, 'hex');
  let matched = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    if (timingSafeEqual(expected, given)) matched = true;
  }
  return matched ? 'valid' : 'invalid';
}
