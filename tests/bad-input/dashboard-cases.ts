import type { CallerEditRequest } from '@runflow-queue/producer';
import { expect } from 'vitest';
import { FORGED_LEDGER_NAMES } from './bounds-cases.ts';
import { type BadCase, board, boardJobJson, type DashboardAs, IMAGE, keyCount, pro, theProducer } from './harness.ts';

// The dashboard's write actions: a viewer's credential changes nothing, whatever it tries;
// the operator's writes come only from the board's own origin, never rewrite an edit job's data, and
// Add job / Duplicate go through the producer's validation — a forged step or run is dropped.

let target: string | undefined;
/** A queued job of queue `edits` for the write actions to aim at (made once, through the producer). */
async function targetJob(): Promise<string> {
  target ??= (await theProducer().enqueueEdit('edits', pro({ prompt: 'the board aims at this' }) as CallerEditRequest))
    .id;
  return target;
}

let webhookJob: string | undefined;
/** A job with a webhook token in its notifyUrl and a presigned input image: what Duplicate copies. */
async function secretJob(): Promise<string> {
  webhookJob ??= (
    await theProducer().enqueueEdit('edits', {
      ...pro({ image_urls: [`${IMAGE}?X-Amz-Signature=abc123&X-Amz-Expires=600`] }),
      notifyUrl: 'https://hooks.example.com/done?token=s3cr3t-value',
    } as CallerEditRequest)
  ).id;
  return webhookJob;
}

async function targetUnchanged(): Promise<void> {
  const job = await theProducer()
    .queue('edits')
    .getJob(await targetJob());
  expect(job?.data).toMatchObject({ step: 'queued', input: { prompt: 'the board aims at this' } });
  expect(job?.data.runId).toBeUndefined();
  expect(await theProducer().queue('edits').isPaused()).toBe(false);
}

const api = '/queues/api/queues/edits';
/** Every write action of Bull Board's API, as [name, method, path (after /queues/api/queues/edits), body]. */
const WRITE_ACTIONS: [string, string, (id: string) => string, unknown?][] = [
  ['retry a job', 'PUT', (id) => `/${id}/retry`],
  ['retry all failed', 'PUT', () => '/retry/failed'],
  ['promote a job', 'PUT', (id) => `/${id}/promote`],
  ['promote all', 'PUT', () => '/promote'],
  ['clean (remove) a job', 'PUT', (id) => `/${id}/clean`],
  ['clean all completed', 'PUT', () => '/clean/completed'],
  ['add a job', 'POST', () => '/add', { name: 'edit', data: pro(), options: {} }],
  ["update a job's data", 'PATCH', (id) => `/${id}/update-data`, { jobData: pro() }],
  ["change a job's priority", 'PATCH', (id) => `/${id}/priority`, { priority: 1 }],
  ["change a job's delay", 'PATCH', (id) => `/${id}/delay`, { delay: 1000 }],
  ['pause the queue', 'PUT', () => '/pause'],
  ['empty the queue', 'PUT', () => '/empty'],
  ['obliterate the queue', 'PUT', () => '/obliterate', { force: true }],
];

function viewerCase(as: DashboardAs, [name, method, path, body]: (typeof WRITE_ACTIONS)[number]): BadCase {
  return {
    surface: 'dashboard',
    name: `${as === 'viewer' ? 'viewer' : 'viewer token'}: ${name}`,
    code: 'FORBIDDEN',
    status: 403,
    prepare: async () => void (await targetJob()),
    send: async () => board(as, method, `${api}${path(await targetJob())}`, body),
    verify: targetUnchanged,
  };
}

let forgedBefore = 0;

export const DASHBOARD_CASES: BadCase[] = [
  ...WRITE_ACTIONS.map((action) => viewerCase('viewer', action)),
  viewerCase('viewer-token', WRITE_ACTIONS[0]),
  viewerCase('viewer-token', WRITE_ACTIONS[6]),
  {
    surface: 'dashboard',
    name: 'viewer: pause every queue',
    code: 'FORBIDDEN',
    status: 403,
    send: () => board('viewer', 'PUT', '/queues/api/queues/pause'),
    verify: targetUnchanged,
  },
  {
    surface: 'dashboard',
    name: 'no credentials: retry a job',
    code: 'UNAUTHORIZED',
    status: 401,
    prepare: async () => void (await targetJob()),
    send: async () => board('nobody', 'PUT', `${api}/${await targetJob()}/retry`),
  },
  {
    surface: 'dashboard',
    name: 'operator, from another origin (CSRF): clean a job',
    code: 'CROSS_ORIGIN_WRITE',
    status: 403,
    prepare: async () => void (await targetJob()),
    send: async () =>
      board('operator', 'PUT', `${api}/${await targetJob()}/clean`, undefined, { origin: 'https://evil.example' }),
    verify: targetUnchanged,
  },
  {
    surface: 'dashboard',
    name: 'operator, a cross-site fetch (Sec-Fetch-Site): add a job',
    code: 'CROSS_ORIGIN_WRITE',
    status: 403,
    send: () =>
      board(
        'operator',
        'POST',
        `${api}/add`,
        { name: 'edit', data: pro(), options: {} },
        { 'sec-fetch-site': 'cross-site' },
      ),
  },
  {
    surface: 'dashboard',
    name: 'operator, an opaque origin ("null"): retry all',
    code: 'CROSS_ORIGIN_WRITE',
    status: 403,
    send: () => board('operator', 'PUT', `${api}/retry/failed`, undefined, { origin: 'null' }),
  },
  {
    surface: 'dashboard',
    name: "operator: update an edit job's data (disabled)",
    code: 'ACTION_DISABLED',
    status: 405,
    prepare: async () => void (await targetJob()),
    send: async () => board('operator', 'PATCH', `${api}/${await targetJob()}/update-data`, { jobData: pro() }),
    verify: targetUnchanged,
  },
  {
    surface: 'dashboard',
    name: 'operator: add a job to a read-only queue',
    code: 'QUEUE_READ_ONLY',
    status: 405,
    send: () => board('operator', 'POST', '/queues/api/queues/frozen/add', { name: 'edit', data: pro(), options: {} }),
  },
  {
    surface: 'dashboard',
    name: 'operator: Duplicate a job whose data the board showed redacted',
    code: 'INVALID_INPUT',
    status: 422,
    prepare: async () => void (await secretJob()),
    send: async () => {
      const shown = await boardJobJson('edits', await secretJob());
      expect(JSON.stringify(shown.data)).toContain('[redacted]');
      return board('operator', 'POST', `${api}/add`, { name: 'edit', data: shown.data, options: {} });
    },
  },
  {
    surface: 'dashboard',
    name: 'operator: add a job whose notifyUrl token is "[redacted]"',
    code: 'INVALID_INPUT',
    status: 422,
    send: () =>
      board('operator', 'POST', `${api}/add`, {
        name: 'edit',
        data: { ...pro(), notifyUrl: 'https://hooks.example.com/done?token=[redacted]' },
        options: {},
      }),
  },
  {
    surface: 'dashboard',
    name: 'operator: add a job whose image URL signature is "[redacted]"',
    code: 'INVALID_INPUT',
    status: 422,
    send: () =>
      board('operator', 'POST', `${api}/add`, {
        name: 'edit',
        data: pro({ image_urls: [`${IMAGE}?X-Amz-Signature=[redacted]`] }),
        options: {},
      }),
  },
  // A cost center that would forge another spend-ledger row (separators, a newline, lookalikes of `|`
  // and of Latin letters): refused at Add Job as everywhere else.
  ...FORGED_LEDGER_NAMES.map(
    ([label, costCenter]): BadCase => ({
      surface: 'dashboard',
      name: `operator: add a job with cost center ${label}`,
      code: 'INVALID_INPUT',
      status: 422,
      send: () =>
        board('operator', 'POST', `${api}/add`, {
          name: 'edit',
          data: { ...pro(), tags: { costCenter } },
          options: {},
        }),
    }),
  ),
  {
    surface: 'dashboard',
    name: 'operator: add a job of an unknown model',
    code: 'INVALID_INPUT',
    status: 422,
    send: () =>
      board('operator', 'POST', `${api}/add`, { name: 'edit', data: { ...pro(), model: 'acme/x' }, options: {} }),
  },
  {
    surface: 'dashboard',
    name: 'operator: add a job with an unknown field',
    code: 'INVALID_INPUT',
    status: 422,
    send: () =>
      board('operator', 'POST', `${api}/add`, { name: 'edit', data: { ...pro(), bypass: true }, options: {} }),
  },
  {
    surface: 'dashboard',
    name: 'operator: add a job delayed 9007199254740991 ms',
    code: 'INVALID_INPUT',
    status: 422,
    send: () =>
      board('operator', 'POST', `${api}/add`, {
        name: 'edit',
        data: pro(),
        options: { delay: Number.MAX_SAFE_INTEGER },
      }),
  },
  {
    surface: 'dashboard',
    name: 'operator: add a job with no data',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => board('operator', 'POST', `${api}/add`, { name: 'edit', options: {} }),
  },
  {
    surface: 'dashboard',
    name: 'operator: add a job with a text/plain body',
    code: 'UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    send: () =>
      board('operator', 'POST', `${api}/add`, JSON.stringify({ name: 'edit', data: pro() }), {
        'content-type': 'text/plain',
      }),
  },
  {
    // Accepted, but as a new job of its own: the forged step, run and clientRef are dropped.
    surface: 'dashboard',
    name: "operator: add a job forging step 'submitted' and another job's runId → stored queued, no run",
    code: 'prioritized',
    status: 200,
    keysAdded: 1,
    prepare: async () => {
      forgedBefore = await keyCount();
    },
    send: () =>
      board('operator', 'POST', `${api}/add`, {
        name: 'edit',
        data: {
          ...pro({ prompt: 'forged' }),
          step: 'submitted',
          runId: 'run-of-another-job',
          clientRef: 'rq_another',
          enqueuedAt: 1,
          reservation: { amountMicroUsd: 0, day: '2026-01-01', month: '2026-01' },
        },
        options: { jobId: 'chosen-id', attempts: 1000 },
      }),
    verify: async () => {
      const [job] = (await theProducer().queue('edits').getJobs(['prioritized'], 0, -1)).filter(
        (j) => j.data.input.prompt === 'forged',
      );
      expect(job.data.step).toBe('queued');
      expect(job.data).not.toHaveProperty('runId');
      expect(job.data).not.toHaveProperty('clientRef');
      expect(job.data).not.toHaveProperty('reservation');
      expect(job.data.caller).toBe('dashboard');
      expect(job.data.enqueuedAt).toBeGreaterThan(1);
      expect(job.id).not.toBe('chosen-id');
      expect(job.opts.attempts).toBe(3);
      expect(await keyCount()).toBe(forgedBefore + 1);
    },
  },
];
