import { describe, expect, it } from 'vitest';
import { challengeFor, createCredentialCheck } from './check-credentials.ts';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('createCredentialCheck', () => {
  const check = createCredentialCheck({ user: 'admin', password: 'hunter22', token: 'tok_0123456789abcdef' });

  it('accepts the right user and password, or the right bearer token', () => {
    expect(check(basic('admin', 'hunter22'))).toBe('viewer');
    expect(check('bearer tok_0123456789abcdef')).toBe('viewer');
    expect(check('Bearer   tok_0123456789abcdef  ')).toBe('viewer');
  });

  it('refuses anything else', () => {
    for (const header of [
      undefined,
      '',
      basic('admin', 'hunter2'),
      basic('root', 'hunter22'),
      basic('admin', ''),
      `Basic ${Buffer.from('adminhunter22').toString('base64')}`,
      'Basic !!!',
      'Bearer tok_0123456789abcdeX',
      'Bearer',
      'Digest tok_0123456789abcdef',
      'tok_0123456789abcdef',
    ]) {
      expect(check(header), String(header)).toBeUndefined();
    }
  });

  it('keeps passwords with a colon whole', () => {
    expect(createCredentialCheck({ user: 'u', password: 'a:b:c-long' })(basic('u', 'a:b:c-long'))).toBe('viewer');
  });

  it('tells the operator from the viewer, and gives neither the other role', () => {
    const both = createCredentialCheck({
      user: 'viewer',
      password: 'view-password',
      operator: { user: 'operator', password: 'operate-password', token: 'op_0123456789abcdef' },
    });
    expect(both(basic('viewer', 'view-password'))).toBe('viewer');
    expect(both(basic('operator', 'operate-password'))).toBe('operator');
    expect(both('Bearer op_0123456789abcdef')).toBe('operator');
    expect(both(basic('viewer', 'operate-password'))).toBeUndefined();
    expect(both(basic('operator', 'view-password'))).toBeUndefined();
    expect(() => createCredentialCheck({ token: 'tok_0123456789abcdef', operator: { user: 'op' } })).toThrow(
      /operator credential needs a password or a token/,
    );
  });

  it('accepts no basic auth when only a token is set, and never runs open', () => {
    const tokenOnly = createCredentialCheck({ token: 'tok_0123456789abcdef' });
    expect(tokenOnly(basic('', ''))).toBeUndefined();
    expect(challengeFor({ token: 'x' })).toMatch(/^Bearer /);
    expect(challengeFor({ user: 'a', password: 'b' })).toMatch(/^Basic realm=/);
    expect(() => createCredentialCheck({ user: 'admin' })).toThrow(/never runs open/);
  });
});
