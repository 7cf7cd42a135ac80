import { buildApp } from '@runflow-queue/dashboard';
import { AccountHolds, createRedis } from '@runflow-queue/store';
import { uniquePrefix } from '@runflow-queue/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// The dashboard shows every hold as a banner with its reason, exports rfq_hold_active, and lets the
// operator (not the viewer) pause and resume.

const VIEWER = 'viewer-tok-0123456789abcdef';
const OPERATOR = 'operator-tok-0123456789abcdef';
const ACCOUNT = 'rf_live_dashboard_test';
const redis = createRedis(inject('redisUrl'));
const prefix = uniquePrefix();
let app: ReturnType<typeof buildApp>;

beforeAll(async () => {
  app = buildApp({
    redis,
    prefix,
    queues: ['edits'],
    auth: { token: VIEWER, operator: { token: OPERATOR } },
    logger: pino({ level: 'silent' }),
    collectIntervalMs: 60_000,
    accountKey: ACCOUNT,
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await redis.quit();
});

const as = (token: string) => ({ authorization: `Bearer ${token}` });

describe('dashboard holds', () => {
  it('shows a banner per hold with its reason; operators pause and resume, viewers cannot', async () => {
    expect((await app.inject({ url: '/spend', headers: as(VIEWER) })).body).not.toContain('data-testid="holds-banner"');
    const refused = await app.inject({ method: 'POST', url: '/api/holds/pause', headers: as(VIEWER), payload: {} });
    expect(refused.statusCode).toBe(403);

    const paused = await app.inject({
      method: 'POST',
      url: '/api/holds/pause',
      headers: as(OPERATOR),
      payload: { queue: 'edits', reason: 'reviewing <prompts>' },
    });
    expect(paused.json().paused).toMatchObject({ queue: 'edits', by: 'dashboard operator' });
    await new AccountHolds(redis, { prefix, accountKey: ACCOUNT }).holdCredit('INSUFFICIENT_CREDIT: top up', 10_000);

    const spend = (await app.inject({ url: '/spend', headers: as(VIEWER) })).body;
    expect(spend).toContain('data-testid="holds-banner"');
    expect(spend).toContain('Queue edits paused');
    expect(spend).toContain('reviewing &lt;prompts&gt;');
    expect(spend).toContain('Credit spent');
    const page = (await app.inject({ url: '/holds', headers: as(OPERATOR) })).body;
    expect(page).toContain('data-action="pause"');
    expect((await app.inject({ url: '/holds', headers: as(VIEWER) })).body).not.toContain('data-action="pause"');
    expect((await app.inject({ url: '/api/health', headers: as(VIEWER) })).json().holds.credit.held).toBe(true);

    const resumed = await app.inject({
      method: 'POST',
      url: '/api/holds/resume',
      headers: as(OPERATOR),
      payload: { queue: 'edits' },
    });
    expect(resumed.json()).toEqual({ resumed: true, queue: 'edits' });
    expect((await app.inject({ url: '/spend', headers: as(VIEWER) })).body).not.toContain('Queue edits paused');
  });
});
