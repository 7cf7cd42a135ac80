import { randomBytes } from 'node:crypto';

/** A key prefix no other test shares, so tests can run against one Redis in parallel. */
export function uniquePrefix(label = 't'): string {
  return `${label}${randomBytes(4).toString('hex')}`;
}
