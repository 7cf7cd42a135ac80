import { expect } from 'vitest';
import {
  ADMIN_TOKEN,
  apiCall,
  apiJob,
  type BadCase,
  enqueueAs,
  json,
  OTHER_TOKEN,
  post,
  pro,
  TOKEN,
  theProducer,
} from './harness.ts';

// Callers kept apart: caller `search` asks about, waits on and cancels a job caller `catalog`
// enqueued — every time the answer is the one for no job at all, and the job is untouched.

let catalogJob: string | undefined;
/** One job of caller `catalog`, made once. */
async function ownedJob(): Promise<string> {
  catalogJob ??= await apiJob();
  return catalogJob;
}

async function stillQueued(): Promise<void> {
  const job = await theProducer()
    .queue('edits')
    .getJob(await ownedJob());
  expect(job?.data).toMatchObject({ step: 'queued', caller: 'catalog' });
  expect(job?.data.abandoned).toBeUndefined();
}

export const CALLER_CASES: BadCase[] = [
  {
    surface: 'api',
    name: "caller B reads caller A's job",
    code: 'JOB_NOT_FOUND',
    status: 404,
    prepare: async () => void (await ownedJob()),
    send: async () => apiCall('GET', `/v1/edits/${await ownedJob()}`, OTHER_TOKEN),
    verify: async () => {
      // …while its owner and an admin see it.
      expect((await apiCall('GET', `/v1/edits/${await ownedJob()}`)).status).toBe(200);
      expect((await apiCall('GET', `/v1/edits/${await ownedJob()}`, ADMIN_TOKEN)).status).toBe(200);
    },
  },
  {
    surface: 'api',
    name: "caller B waits on caller A's job",
    code: 'JOB_NOT_FOUND',
    status: 404,
    prepare: async () => void (await ownedJob()),
    send: async () => apiCall('GET', `/v1/edits/${await ownedJob()}?waitMs=200`, OTHER_TOKEN),
  },
  {
    surface: 'api',
    name: "caller B cancels caller A's job",
    code: 'JOB_NOT_FOUND',
    status: 404,
    prepare: async () => void (await ownedJob()),
    send: async () => apiCall('DELETE', `/v1/edits/${await ownedJob()}`, OTHER_TOKEN),
    verify: stillQueued,
  },
  {
    surface: 'api',
    name: 'waitMs 0',
    code: 'INVALID_INPUT',
    status: 422,
    prepare: async () => void (await ownedJob()),
    send: async () => apiCall('GET', `/v1/edits/${await ownedJob()}?waitMs=0`),
  },
  {
    surface: 'api',
    name: 'waitMs over the maximum (55 s)',
    code: 'INVALID_INPUT',
    status: 422,
    prepare: async () => void (await ownedJob()),
    send: async () => apiCall('GET', `/v1/edits/${await ownedJob()}?waitMs=600000`),
  },
  {
    surface: 'api',
    name: "caller B's idempotency key equal to caller A's (a new job, not A's; then reused by B)",
    code: 'IDEMPOTENCY_KEY_REUSED',
    status: 409,
    prepare: async () => {
      const a = await enqueueAs(TOKEN, { ...pro({ prompt: 'A asked this' }), idempotencyKey: 'shared-key' });
      // B's same key is B's own: it makes B's job, it does not answer with A's (nor conflict with it).
      const b = await enqueueAs(OTHER_TOKEN, { ...pro({ prompt: 'B asked that' }), idempotencyKey: 'shared-key' });
      expect(a.status).toBe(202);
      expect(b).toMatchObject({ status: 202, deduplicated: false });
      expect(b.id).not.toBe(a.id);
    },
    // …and B reusing its own key for something else is B's conflict, named as such.
    send: () =>
      post('/v1/edits', json({ ...pro({ prompt: 'B asked something else' }), idempotencyKey: 'shared-key' }), {
        authorization: `Bearer ${OTHER_TOKEN}`,
      }),
  },
];
