import { RunflowQueueError } from '@runflow-queue/shared';
import { isConnectionError, isRefusedWrite, type RedisClient } from '@runflow-queue/store';

export { isConnectionError, isRefusedWrite };

// BullMQ waits for a connection that is not ready — forever, for a queue whose first command finds
// Redis down — and ioredis reports a connection lost mid-call as MaxRetriesPerRequestError or "Command
// timed out". A caller gets neither a bound nor a clear reason. Every producer call that touches Redis
// goes through `withRedis`: a bounded wait for the connection, then connection failures become
// REDIS_UNAVAILABLE (retryable) with what the caller may assume; so do commands Redis refuses for a
// while (OOM at maxmemory, READONLY after a failover, …): infrastructure trouble, not a bad request.

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
