import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from './sign-webhook.ts';

// The example of the Standard Webhooks reference libraries (and Svix's).
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TIMESTAMP = 1614265330;
const BODY = '{"test": 2432232314}';

describe('Standard Webhooks signatures', () => {
  it('signs "<id>.<timestamp>.<body>" with HMAC-SHA256 of the decoded whsec_ key', () => {
    expect(signWebhook(SECRET, ID, TIMESTAMP, BODY)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('signs with every secret during a rotation, space-separated', () => {
    const header = signWebhook([SECRET, 'plain-secret-0123456789'], ID, TIMESTAMP, BODY);
    expect(header.split(' ')).toHaveLength(2);
    const headers = { 'webhook-id': ID, 'webhook-timestamp': String(TIMESTAMP), 'webhook-signature': header };
    expect(verifyWebhook('plain-secret-0123456789', headers, BODY, { nowS: TIMESTAMP })).toBe('valid');
    expect(verifyWebhook(SECRET, headers, BODY, { nowS: TIMESTAMP })).toBe('valid');
  });

  it('rejects a changed body, a wrong secret, a stale timestamp and missing headers', () => {
    const headers = {
      'webhook-id': ID,
      'webhook-timestamp': String(TIMESTAMP),
      'webhook-signature': signWebhook(SECRET, ID, TIMESTAMP, BODY),
    };
    expect(verifyWebhook(SECRET, headers, BODY, { nowS: TIMESTAMP + 10 })).toBe('valid');
    expect(verifyWebhook(SECRET, headers, `${BODY} `, { nowS: TIMESTAMP })).toBe('invalid');
    expect(verifyWebhook('whsec_b3RoZXItc2VjcmV0', headers, BODY, { nowS: TIMESTAMP })).toBe('invalid');
    expect(verifyWebhook(SECRET, { ...headers, 'webhook-id': 'msg_other' }, BODY, { nowS: TIMESTAMP })).toBe('invalid');
    expect(verifyWebhook(SECRET, headers, BODY, { nowS: TIMESTAMP + 301 })).toBe('stale');
    expect(verifyWebhook(SECRET, { ...headers, 'webhook-signature': undefined }, BODY)).toBe('missing');
    expect(verifyWebhook(SECRET, { ...headers, 'webhook-signature': 'v2,abc' }, BODY, { nowS: TIMESTAMP })).toBe(
      'invalid',
    );
  });
});
