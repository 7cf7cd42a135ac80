import { createHash, timingSafeEqual } from 'node:crypto';

export interface DashboardAuth {
  /** Basic auth: both set, or neither. */
  user?: string;
  password?: string;
  /** Bearer token. */
  token?: string;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Checks an Authorization header (Basic or Bearer) against the configured credentials. Every secret is
 * compared through its SHA-256 (equal lengths, so timingSafeEqual applies whatever was sent), and the
 * user and the password are both always compared, so timing tells nothing about which part was wrong.
 */
export function createCredentialCheck(auth: DashboardAuth): (authorization: string | undefined) => boolean {
  const user = auth.password !== undefined ? digest(auth.user ?? '') : undefined;
  const password = auth.password !== undefined ? digest(auth.password) : undefined;
  const token = auth.token !== undefined ? digest(auth.token) : undefined;
  if (!password && !token) throw new Error('the dashboard needs a password or a token: it never runs open');
  return (authorization) => {
    const [scheme, value = ''] = (authorization ?? '').trim().split(/\s+/, 2);
    switch (scheme?.toLowerCase()) {
      case 'basic': {
        if (!user || !password) return false;
        const decoded = Buffer.from(value, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        const givenUser = colon === -1 ? decoded : decoded.slice(0, colon);
        const givenPassword = colon === -1 ? '' : decoded.slice(colon + 1);
        const userOk = timingSafeEqual(digest(givenUser), user);
        const passwordOk = timingSafeEqual(digest(givenPassword), password);
        return userOk && passwordOk && colon !== -1;
      }
      case 'bearer':
        return token !== undefined && timingSafeEqual(digest(value), token);
      default:
        return false;
    }
  };
}

/** The challenge a 401 carries: Basic (the browser asks for user and password) when a password is set. */
export function challengeFor(auth: DashboardAuth): string {
  return auth.password !== undefined
    ? 'Basic realm="runflow-queue dashboard", charset="UTF-8"'
    : 'Bearer realm="runflow-queue dashboard"';
}
