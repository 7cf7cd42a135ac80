import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Checks an `Authorization: Bearer <token>` header against every trusted token. Both sides are hashed
 * first so the compare is constant-time whatever the lengths, and every token is always compared, so
 * timing reveals neither a prefix nor which token matched.
 */
export function createTokenCheck(tokens: readonly string[]): (authorization: string | undefined) => boolean {
  const trusted = tokens.map(digest);
  return (authorization) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    const given = digest(match?.[1] ?? '');
    let ok = false;
    for (const token of trusted) if (timingSafeEqual(token, given)) ok = true;
    return ok && match !== null;
  };
}
