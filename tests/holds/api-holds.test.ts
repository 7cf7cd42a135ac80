import { buildApp } from '@runflow-queue/api';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type Fleet, startFleet } from '../support/fleet.ts';
import { enqueueMany, FAST_HOLDS, waitAllEnded } from './holds-support.ts';

// The operator's controls over HTTP: admin tokens pause and resume submits and read the account's health.

const ADMIN = 'ops-admin-0123456789abcdef';
const CALLER = 'svc-catalog-0123456789abcdef';
let fleet: Fleet | undefined;
let app: ReturnType<typeof buildApp> | undefined;
afterEach(async () => {
  await app?.close();
  await fleet?.close();
  app = undefined;
  fleet = undefined;
});

const as = (token: string) => ({ authorization: `Bearer ${token}` });

describe('HTTP admin routes', () => {
  it('an admin pauses a queue and resumes it; health shows the pause with its reason; a caller token is refused', async () => {
    const f = await startFleet({ holds: FAST_HOLDS });
    fleet = f;
    app = buildApp({
      producer: f.producer,
      redis: f.redis,
      queues: ['edits'],
      tokens: [CALLER, { name: 'ops', token: ADMIN, admin: true }],
      logger: pino({ level: 'silent' }),
      holds: { prefix: f.prefix, accountKey: f.sim.apiKey },
    });
    const refused = await app.inject({ method: 'POST', url: '/v1/admin/pause', headers: as(CALLER), payload: {} });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'FORBIDDEN' });

    const paused = await app.inject({
      method: 'POST',
      url: '/v1/admin/pause',
      headers: as(ADMIN),
      payload: { queue: 'edits', reason: 'bad batch upstream' },
    });
    expect(paused.statusCode).toBe(200);
    expect(paused.json().paused).toMatchObject({ queue: 'edits', reason: 'bad batch upstream', by: 'ops' });
    // Every worker honours a pause within a second (its cached holds are at most HOLDS_REFRESH_MS old).
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const ids = await enqueueMany(f.producer, 'edits', 2, 'paused over http');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(f.sim.runs()).toHaveLength(0);
    const health = await app.inject({ method: 'GET', url: '/v1/admin/health', headers: as(ADMIN) });
    expect(health.json().holds.pauses).toEqual([
      expect.objectContaining({ queue: 'edits', reason: 'bad batch upstream', by: 'ops' }),
    ]);

    const unknown = await app.inject({
      method: 'POST',
      url: '/v1/admin/resume',
      headers: as(ADMIN),
      payload: { queue: 'nope' },
    });
    expect(unknown.json()).toMatchObject({ code: 'UNKNOWN_QUEUE' });
    const resumed = await app.inject({
      method: 'POST',
      url: '/v1/admin/resume',
      headers: as(ADMIN),
      payload: { queue: 'edits' },
    });
    expect(resumed.json()).toEqual({ resumed: true, queue: 'edits' });
    expect(await waitAllEnded(f, 'edits', ids, 20_000)).toEqual([]);
  });

  it('says which variable to set when the API does not know the account', async () => {
    const f = await startFleet({ workers: false });
    fleet = f;
    app = buildApp({
      producer: f.producer,
      redis: f.redis,
      queues: ['edits'],
      tokens: [{ name: 'ops', token: ADMIN, admin: true }],
      logger: pino({ level: 'silent' }),
    });
    const response = await app.inject({ method: 'GET', url: '/v1/admin/health', headers: as(ADMIN) });
    expect(response.statusCode).toBe(404);
    expect(response.json().message).toContain('set RATE_LIMIT_KEY (or RUNFLOW_API_KEY)');
  });
});
