import { describe, expect, it } from 'vitest';
import { REDACTED, redactSecrets } from './redact-secrets.ts';

describe('redactSecrets', () => {
  it('hides values of secret-named keys at any depth, and leaves the input alone', () => {
    const data = {
      model: 'google/nano-banana-2/edit',
      input: { prompt: 'a hat', image_urls: ['https://cdn.example.com/a.png'] },
      headers: { Authorization: 'Bearer abc', 'x-api-key': 'k' },
      webhook: { signingSecret: 'whsec_x', token: 't' },
      clientRef: 'rq_1',
    };
    const copy = structuredClone(data);
    expect(redactSecrets(data)).toEqual({
      ...data,
      headers: { Authorization: REDACTED, 'x-api-key': REDACTED },
      webhook: { signingSecret: REDACTED, token: REDACTED },
    });
    expect(data).toEqual(copy);
  });

  it('strips signatures and credentials from URLs (presigned outputs, webhook tokens, user info)', () => {
    const out = redactSecrets({
      notifyUrl: 'https://hooks.example.com/done?token=abc&job=1',
      outputs: [
        {
          url: 'https://bucket.s3.amazonaws.com/o.png?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA&X-Amz-Signature=deadbeef',
        },
      ],
      callback: 'https://user:pass@example.com/cb',
    }) as { notifyUrl: string; outputs: { url: string }[]; callback: string };
    expect(out.notifyUrl).toBe('https://hooks.example.com/done?token=[redacted]&job=1');
    expect(out.outputs[0].url).toContain('X-Amz-Signature=[redacted]');
    expect(out.outputs[0].url).toContain('X-Amz-Credential=[redacted]');
    expect(out.outputs[0].url).toContain('X-Amz-Algorithm=AWS4');
    expect(out.callback).not.toContain('pass');
  });

  it('keeps plain values, URLs without secrets and empty secret fields as they are', () => {
    expect(redactSecrets('https://example.com/in.png')).toBe('https://example.com/in.png');
    expect(redactSecrets({ n: 1, ok: true, none: null, token: '' })).toEqual({ n: 1, ok: true, none: null, token: '' });
  });
});
