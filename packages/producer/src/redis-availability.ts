import { RunflowQueueError } from '@runflow-queue/shared';
import type { RedisClient } from '@runflow-queue/store';

// BullMQ waits for a connection that is not ready — forever, for a queue whose first command finds
// Redis down — and ioredis reports a connection lost mid-call as MaxRetriesPerRequestError or "Command
// timed out". A caller gets neither a bound nor a clear reason. Every producer call that touches Redis
// goes through `withRedis`: a bounded wait for the connection, then connection failures become
// REDIS_UNAVAILABLE (retryable) with what the caller may assume; so do commands Redis refuses for a
// while (OOM at maxmemory, READONLY after a failover, …): infrastructure trouble, not a bad request.

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
    /^(OOM|READONLY|LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|MISCONF|NOREPLICAS|BUSY)\b/.test(error.message)
  );
}

function waitUntilReady(redis: RedisClient, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  if (redis.status === 'end') return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on('ready', onReady);
  });
}

/**
 * Runs `call` once the connection is ready (waiting at most `timeoutMs`). Fails with REDIS_UNAVAILABLE
 * when it never gets ready — nothing was sent — or when the connection fails during the call, which may
 * or may not have taken effect (an enqueue with an idempotency key is safe to repeat).
 */
export async function withRedis<T>(
  redis: RedisClient,
  timeoutMs: number,
  operation: string,
  call: () => Promise<T>,
): Promise<T> {
  if (!(await waitUntilReady(redis, timeoutMs))) {
    throw new RunflowQueueError(
      'REDIS_UNAVAILABLE',
      `${operation}: Redis is not reachable (connection ${redis.status} for ${timeoutMs} ms); nothing was sent, retry later`,
    );
  }
  try {
    return await call();
  } catch (error) {
    if (isRefusedWrite(error)) {
      throw new RunflowQueueError(
        'REDIS_UNAVAILABLE',
        `${operation}: Redis refused the command (${(error as Error).message.split('\n')[0]}); an operator must free memory or finish the failover — retry later (with the same idempotencyKey for an enqueue)`,
        { cause: error },
      );
    }
    if (!isConnectionError(error)) throw error;
    throw new RunflowQueueError(
      'REDIS_UNAVAILABLE',
      `${operation}: Redis stopped answering (${(error as Error).message}); the call may or may not have taken effect — retry it (with the same idempotencyKey for an enqueue)`,
      { cause: error },
    );
  }
}
