import { createHash, timingSafeEqual } from 'node:crypto';
import { type ApiCaller, DEFAULT_CALLER_NAME } from './api-callers.ts';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** A bare token string is caller `default` (the form before callers had names). */
export function toCallers(tokens: readonly (string | ApiCaller)[]): ApiCaller[] {
  return tokens.map((entry) => (typeof entry === 'string' ? { name: DEFAULT_CALLER_NAME, token: entry } : entry));
}

/**
 * Checks an `Authorization: Bearer <token>` header against every trusted token and answers whose it
 * is. Both sides are hashed first so the compare is constant-time whatever the lengths, and every token
 * is always compared, so timing reveals neither a prefix nor which token matched.
 */
export function createTokenCheck(
  tokens: readonly (string | ApiCaller)[],
): (authorization: string | undefined) => ApiCaller | undefined {
  const trusted = toCallers(tokens).map((caller) => ({ caller, hash: digest(caller.token) }));
  return (authorization) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    const given = digest(match?.[1] ?? '');
    let found: ApiCaller | undefined;
    for (const { caller, hash } of trusted) if (timingSafeEqual(hash, given) && !found) found = caller;
    return match !== null ? found : undefined;
  };
}
