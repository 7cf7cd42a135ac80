import { uniquePrefix } from '@runflow-queue/testkit';
import { DelayedError, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { moveToDelayedWith } from './index.ts';

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
});
afterAll(() => redis.quit());

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('moveToDelayedWith', () => {
  it('parks an active job and saves its data and priority in the same move; a promote serves it first', async () => {
    const prefix = uniquePrefix();
    const queue = new Queue('q', { connection: redis, prefix });
    const job = await queue.add('edit', { step: 'queued' }, { priority: 7 });
    let parkedWith: { data: unknown; priority: number } | undefined;
    const worker = new Worker(
      'q',
      async (active, token) => {
        await moveToDelayedWith(active, Date.now() + 60_000, token ?? '', {
          data: { step: 'submitted', runId: 'run-1' },
          priority: 0,
        });
        parkedWith = { data: active.data, priority: active.priority };
        throw new DelayedError();
      },
      { connection: redis, prefix },
    );
    try {
      await waitFor(async () => (await queue.getJobState(job.id as string)) === 'delayed', 5_000, 'job parked');
      await worker.close();
      const stored = await queue.getJob(job.id as string);
      expect(stored?.data).toEqual({ step: 'submitted', runId: 'run-1' });
      expect(stored?.priority).toBe(0);
      expect(parkedWith).toEqual({ data: { step: 'submitted', runId: 'run-1' }, priority: 0 });
      // Promoted, a priority-0 job goes to the wait list, ahead of every prioritized job.
      await stored?.promote();
      expect(await queue.getJobState(job.id as string)).toBe('waiting');
    } finally {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
