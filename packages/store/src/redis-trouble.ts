// Redis trouble is infrastructure, not a job's failure: a connection that is lost or times out, or
// commands Redis refuses for a while (OOM at maxmemory with noeviction, READONLY after a failover,
// LOADING, CLUSTERDOWN, …). The producer turns it into REDIS_UNAVAILABLE; the workers park and retry
// without using a job's attempts.

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  'EHOSTUNREACH',
]);

/** True for errors that mean "Redis did not answer", not "Redis refused the command". */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  if (CONNECTION_ERROR_CODES.has((error as NodeJS.ErrnoException).code ?? '')) return true;
  return /^(Connection is closed|Command timed out|Stream isn't writeable)/.test(error.message);
}

/**
 * Redis answered but refuses writes for now: at maxmemory with noeviction (OOM), a replica after a
 * failover (READONLY), loading its data (LOADING), a cluster reconfiguring (CLUSTERDOWN, TRYAGAIN,
 * MASTERDOWN), a failed snapshot blocking writes (MISCONF), a script running too long (BUSY).
 */
export function isRefusedWrite(error: unknown): boolean {
  return (
    error instanceof Error &&
    /^(ERR Error running script.*?)?(OOM|READONLY|LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|MISCONF|NOREPLICAS|BUSY)\b/.test(
      error.message,
    )
  );
}

/** The kind of Redis trouble (a metric label), or undefined for any other error. */
export function redisTroubleKind(error: unknown): 'oom' | 'readonly' | 'refused' | 'connection' | undefined {
  if (isConnectionError(error)) return 'connection';
  if (!isRefusedWrite(error)) return undefined;
  const message = (error as Error).message;
  if (/\bOOM\b/.test(message)) return 'oom';
  if (/\bREADONLY\b/.test(message)) return 'readonly';
  return 'refused';
}
