import { describe, expect, it } from 'vitest';
import { signBody } from './sign-body.ts';

describe('signBody', () => {
  it('is HMAC-SHA256 in lowercase hex (RFC 4231 test case 2)', () => {
    expect(signBody('Jefe', 'what do ya want for nothing?')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    expect(signBody('Jefe', Buffer.from('what do ya want for nothing?'))).toBe(
      signBody('Jefe', 'what do ya want for nothing?'),
    );
  });
});
