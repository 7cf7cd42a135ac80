import { LEDGER_NAME_PATTERN } from '@runflow-queue/shared';
import { z } from 'zod';

/** The caller a bare token (no `name:` in front) belongs to: the one every job without a caller has. */
export const DEFAULT_CALLER_NAME = 'default';

/** One calling service: its name (recorded on its jobs, a ledger dimension) and its bearer token. */
export interface ApiCaller {
  name: string;
  token: string;
  /** An admin sees, waits on and cancels every caller's jobs. */
  admin?: boolean;
}

const MIN_TOKEN_CHARS = 16;

/**
 * One `API_TOKENS` / `API_ADMIN_TOKENS` entry: `name:token`, or a bare token (caller `default`, the
 * form before callers existed). Several entries may share a name: a caller's tokens rotate like that.
 */
export const CallerEntry = z.string().transform((entry, ctx): ApiCaller => {
  const colon = entry.indexOf(':');
  const name = colon === -1 ? DEFAULT_CALLER_NAME : entry.slice(0, colon).trim();
  const token = colon === -1 ? entry : entry.slice(colon + 1).trim();
  if (!LEDGER_NAME_PATTERN.test(name)) {
    ctx.addIssue({
      code: 'custom',
      message: 'a caller name is 1 to 64 letters, digits, ".", "_" or "-" (write name:token)',
    });
  }
  if (token.length < MIN_TOKEN_CHARS) {
    ctx.addIssue({
      code: 'custom',
      message: `each API token needs at least ${MIN_TOKEN_CHARS} characters (e.g. \`openssl rand -hex 24\`)`,
    });
  }
  return { name, token };
});

/** Tokens must be unique: one token naming two callers would make its jobs someone else's. */
export function duplicateTokens(callers: readonly ApiCaller[]): boolean {
  return new Set(callers.map((c) => c.token)).size !== callers.length;
}
