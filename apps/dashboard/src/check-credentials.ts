import { createHash, timingSafeEqual } from 'node:crypto';

/** A viewer reads everything; only an operator may change a job or a queue. */
export type DashboardRole = 'viewer' | 'operator';

export interface Credentials {
  /** Basic auth: both set, or neither. */
  user?: string | undefined;
  password?: string | undefined;
  /** Bearer token. */
  token?: string | undefined;
}

/** The viewer's credentials (Basic and/or bearer), and optionally an operator's, distinct from them. */
export interface DashboardAuth extends Credentials {
  /** May also retry, promote, clean, add and remove. Unset: the board is read-only for everyone. */
  operator?: Credentials | undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

interface Trusted {
  role: DashboardRole;
  user?: Buffer | undefined;
  password?: Buffer | undefined;
  token?: Buffer | undefined;
}

function trusted(role: DashboardRole, c: Credentials): Trusted {
  return {
    role,
    user: c.password !== undefined ? digest(c.user ?? '') : undefined,
    password: c.password !== undefined ? digest(c.password) : undefined,
    token: c.token !== undefined ? digest(c.token) : undefined,
  };
}

/**
 * Checks an Authorization header (Basic or Bearer) against the viewer's and the operator's credentials
 * and answers the role, or undefined. Every secret is compared through its SHA-256 (equal lengths, so
 * timingSafeEqual applies whatever was sent), and every configured credential is always compared, so
 * timing tells neither which part was wrong nor whose credential it was.
 */
export function createCredentialCheck(
  auth: DashboardAuth,
): (authorization: string | undefined) => DashboardRole | undefined {
  const all = [trusted('viewer', auth), ...(auth.operator ? [trusted('operator', auth.operator)] : [])];
  if (!all[0].password && !all[0].token)
    throw new Error('the dashboard needs a password or a token: it never runs open');
  if (auth.operator && auth.operator.password === undefined && auth.operator.token === undefined) {
    throw new Error('the operator credential needs a password or a token');
  }
  return (authorization) => {
    const [scheme, value = ''] = (authorization ?? '').trim().split(/\s+/, 2);
    let role: DashboardRole | undefined;
    switch (scheme?.toLowerCase()) {
      case 'basic': {
        const decoded = Buffer.from(value, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        const givenUser = digest(colon === -1 ? decoded : decoded.slice(0, colon));
        const givenPassword = digest(colon === -1 ? '' : decoded.slice(colon + 1));
        for (const t of all) {
          if (!t.user || !t.password) continue;
          const userOk = timingSafeEqual(givenUser, t.user);
          const passwordOk = timingSafeEqual(givenPassword, t.password);
          if (userOk && passwordOk && colon !== -1) role ??= t.role;
        }
        return role;
      }
      case 'bearer': {
        const given = digest(value);
        for (const t of all) if (t.token && timingSafeEqual(given, t.token)) role ??= t.role;
        return role;
      }
      default:
        return undefined;
    }
  };
}

/** The challenge a 401 carries: Basic (the browser asks for user and password) when a password is set. */
export function challengeFor(auth: DashboardAuth): string {
  return auth.password !== undefined || auth.operator?.password !== undefined
    ? 'Basic realm="runflow-queue dashboard", charset="UTF-8"'
    : 'Bearer realm="runflow-queue dashboard"';
}
