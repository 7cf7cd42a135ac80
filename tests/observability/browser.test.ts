import { existsSync, mkdirSync } from 'node:fs';
import { buildApp } from '@runflow-queue/dashboard';
import { parseWorkloads } from '@runflow-queue/runtime';
import { formatMicroUsd } from '@runflow-queue/shared';
import { renderSpend } from '@runflow-queue/stats';
import type { FastifyInstance } from 'fastify';
import { type Browser, type BrowserContext, chromium, type Page, type Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, nb2Edit, proEdit, quietLogger, startFleet, waitFor } from '../support/fleet.ts';

// Headless Chromium (Debian's package, driven by playwright-core) against a live fleet after real jobs.
// No Chromium → this test FAILS (a skipped test is not a passing one); .ci/run installs it.

const SHOTS = 'test-results/screenshots';
// The browser logs in as the operator (it adds a job); the viewer may only look.
const USER = 'operator';
const PASSWORD = 'correct-horse-battery';
const VIEWER = { username: 'viewer', password: 'viewer-only-password' };
const TOKEN = 'dashboard-token-0123456789abcdef';
const SECRET_IN_URL = 's3cr3t-webhook-token';
/**
 * How long the page may take to show what a step waits for. Rendering Bull Board's React app while a
 * fleet runs beside it takes seconds on a loaded 2-core machine; every wait below is on what the page
 * really shows (an element, a text), so a long bound costs nothing when the machine is fast.
 */
const UI_WAIT = { timeout: 30_000, interval: 100 };
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function chromiumExecutable(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const found = candidates.find((path): path is string => Boolean(path && existsSync(path)));
  if (!found) {
    throw new Error(
      'Chromium is not installed (looked at $CHROMIUM_PATH, /usr/bin/chromium, /usr/bin/chromium-browser): ' +
        'apt-get install chromium — .ci/run does it. This test fails rather than skips without a browser.',
    );
  }
  return found;
}

const workloadsInput = {
  rateLimit: { requestsPerSecond: 1_000, burst: 1_000 },
  queues: [
    { name: 'catalog', budget: { dailyUsd: 20, monthlyUsd: 200, policy: 'fail' as const } },
    { name: 'thumbs', models: ['google/nano-banana-2/edit' as const] },
  ],
};

let fleet: Fleet;
let dashboard: FastifyInstance;
let url: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let webhookJobId: string;

/**
 * The answer a navigation got. A 401 with a challenge ends Chromium's navigation with
 * ERR_INVALID_AUTH_CREDENTIALS (nobody types a password headless), so the response is taken from the
 * network events instead of from goto().
 */
async function visit(visitor: Page, target: string): Promise<Response> {
  const [response] = await Promise.all([
    visitor.waitForResponse((r) => r.url() === target),
    visitor.goto(target).catch(() => null),
  ]);
  return response;
}

async function finished(queue: string, total: number): Promise<void> {
  const q = fleet.producer.queue(queue);
  await waitFor(async () => (await q.getCompletedCount()) + (await q.getFailedCount()) === total, 30_000, queue);
}

beforeAll(async () => {
  const executablePath = chromiumExecutable();
  mkdirSync(SHOTS, { recursive: true });
  fleet = await startFleet({ queues: ['catalog', 'thumbs'], workloads: workloadsInput });
  // 20 jobs over two queues and both models; two are refused by the thumbs workload (MODEL_NOT_ALLOWED,
  // unpaid), so the board and the spend page have failures by code to show.
  const catalog = await fleet.producer.enqueueEdits('catalog', [
    ...Array.from({ length: 6 }, (_, i) => ({ ...proEdit(`hero shot ${i}`), tags: { costCenter: 'catalog-team' } })),
    ...Array.from({ length: 5 }, () => nb2Edit({ num_images: 2 })),
  ]);
  const webhook = await fleet.producer.enqueueEdit('catalog', {
    ...proEdit('with a webhook'),
    notifyUrl: `https://hooks.example.com/done?token=${SECRET_IN_URL}`,
  });
  webhookJobId = webhook.id;
  await fleet.producer.enqueueEdits('thumbs', [
    ...Array.from({ length: 6 }, (_, i) => nb2Edit({ prompt: `thumbnail ${i}` })),
    proEdit('not allowed here'),
    proEdit('nor here'),
  ]);
  expect(catalog).toHaveLength(11);
  await finished('catalog', 12);
  await finished('thumbs', 8);

  dashboard = buildApp({
    redis: fleet.redis,
    prefix: fleet.prefix,
    queues: fleet.queues,
    auth: {
      user: VIEWER.username,
      password: VIEWER.password,
      token: TOKEN,
      operator: { user: USER, password: PASSWORD },
    },
    readOnlyQueues: ['thumbs'],
    producer: fleet.producer,
    workloads: parseWorkloads(workloadsInput),
    logger: quietLogger,
    spendRefreshSeconds: 0,
  });
  url = await dashboard.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  context = await browser.newContext({
    httpCredentials: { username: USER, password: PASSWORD },
    viewport: { width: 1400, height: 900 },
  });
  page = await context.newPage();
}, 120_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await dashboard?.close();
  await fleet?.close();
});

describe('dashboard in a real browser, after real jobs', { timeout: 120_000 }, () => {
  it('refuses a browser without credentials, or with wrong ones, with 401 and a Basic challenge', async () => {
    const anonymous = await browser.newContext();
    try {
      const visitor = await anonymous.newPage();
      for (const path of ['/queues', '/spend', '/api/stats', '/queues/api/queues']) {
        const response = await visit(visitor, `${url}${path}`);
        expect(response.status(), path).toBe(401);
        expect(response.headers()['www-authenticate'], path).toMatch(/^Basic realm="runflow-queue dashboard"/);
        expect(await response.text(), path).not.toContain('<title>runflow-queue'); // no page behind it
      }
    } finally {
      await anonymous.close();
    }
    const wrong = await browser.newContext({ httpCredentials: { username: USER, password: 'not-the-password' } });
    try {
      // Chromium retries once with the given credentials, then gives up: every answer is a 401.
      const response = await visit(await wrong.newPage(), `${url}/spend`);
      expect(response.status()).toBe(401);
    } finally {
      await wrong.close();
    }
    // Scripts use the bearer token; probes and Prometheus need nothing.
    expect((await fetch(`${url}/api/spend`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect(
      (await fetch(`${url}/api/spend`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status,
    ).toBe(401);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
  });

  it('logs in and lists every queue with its counts', async () => {
    const response = await page.goto(`${url}/queues`);
    expect(response?.status()).toBe(200);
    for (const name of fleet.queues) {
      const counts = await fleet.producer.queue(name).getJobCounts('completed', 'failed');
      const card = page.locator('[class*="queueCard"]').filter({ has: page.locator(`a[title="${name}"]`) });
      await expect
        .poll(() => card.getByRole('button', { name: `${counts.completed + counts.failed} Jobs` }).count(), UI_WAIT)
        .toBe(1);
      if (counts.failed > 0)
        await expect.poll(() => card.textContent(), UI_WAIT).toMatch(new RegExp(`failed\\s*${counts.failed}`, 'i'));
    }
    const thumbs = await fleet.producer.queue('thumbs').getJobCounts('failed');
    expect(thumbs.failed).toBeGreaterThanOrEqual(2); // the two MODEL_NOT_ALLOWED jobs
    await page.screenshot({ path: `${SHOTS}/board-overview.png` });
  });

  it('shows a queue with its throughput chart, each job with its step and run id, data redacted', async () => {
    const catalog = await fleet.producer.queue('catalog').getJobCounts('completed');
    await page.goto(`${url}/queues/queue/catalog?status=completed`);
    await expect.poll(() => page.getByText('Throughput (jobs / min)').count(), UI_WAIT).toBe(1);
    await expect
      .poll(() => page.locator('li[class*="completed"]').first().textContent(), UI_WAIT)
      .toContain(String(catalog.completed));
    await page.getByRole('tab', { name: 'Progress' }).first().click();
    await expect.poll(() => page.locator('main').textContent(), UI_WAIT).toMatch(/step:\s*"submitted"/);
    await expect.poll(() => page.locator('main').textContent(), UI_WAIT).toMatch(/runId:\s*"[0-9a-f-]{20,}"/);
    await page.screenshot({ path: `${SHOTS}/board-queue-progress.png` });

    const job = await fleet.producer.queue('catalog').getJob(webhookJobId);
    expect(job?.data.notifyUrl).toContain(SECRET_IN_URL); // stored as given…
    await page.goto(`${url}/queues/queue/catalog/${webhookJobId}`);
    await expect.poll(() => page.locator('main').textContent(), UI_WAIT).toContain('token=[redacted]');
    expect(await page.content()).not.toContain(SECRET_IN_URL); // …shown redacted
    await page.screenshot({ path: `${SHOTS}/board-job-redacted.png` });

    // Read-only queue: nothing to retry, clean or add.
    await page.goto(`${url}/queues/queue/thumbs?status=failed`);
    await expect.poll(() => page.getByText('Throughput (jobs / min)').count(), UI_WAIT).toBe(1);
    expect(await page.getByRole('button', { name: 'Retry all' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Clean all' }).count()).toBe(0);
  });

  it('shows a viewer every queue read-only, and refuses the viewer’s writes with 403', async () => {
    const viewer = await browser.newContext({ httpCredentials: VIEWER });
    try {
      const visitor = await viewer.newPage();
      await visitor.goto(`${url}/queues/queue/catalog?status=completed`);
      await expect.poll(() => visitor.getByText('Throughput (jobs / min)').count(), { timeout: 15_000 }).toBe(1);
      expect(await visitor.getByRole('button', { name: 'Clean all' }).count()).toBe(0);
      const queues = (await (await visitor.request.get(`${url}/queues/api/queues`)).json()) as {
        queues: { name: string; readOnlyMode: boolean }[];
      };
      expect(queues.queues.map((q) => [q.name, q.readOnlyMode])).toEqual(fleet.queues.map((name) => [name, true]));
      const [job] = await fleet.producer.queue('catalog').getJobs(['completed'], 0, 0);
      const retry = await visitor.request.put(`${url}/queues/api/queues/catalog/${job.id}/retry`);
      expect(retry.status()).toBe(403);
      expect(await retry.json()).toMatchObject({ code: 'FORBIDDEN' });
      expect(await job.getState()).toBe('completed');
    } finally {
      await viewer.close();
    }
  });

  it('shows on the spend page the ledger’s numbers, equal to `pnpm spend`', async () => {
    await page.goto(`${url}/queues`);
    // Linked from the board (its header menu).
    await page.locator('header li').last().locator('button').click();
    await page.getByText('Spend & throughput').click();
    await page.waitForURL(`${url}/spend`);
    await expectSpendPageMatchesLedger();
    await page.screenshot({ path: `${SHOTS}/spend.png`, fullPage: true });
  });

  it('adds a job from the form the zod schema drives, and the worker runs it and settles its spend', async () => {
    const before = await fleet.ledger.totalMicroUsd(['catalog']);
    const jobs = fleet.producer.queue('catalog');
    const countBefore = (await jobs.getJobCounts('completed')).completed;
    await page.goto(`${url}/queues/queue/catalog`);
    await expect.poll(() => page.getByText('Throughput (jobs / min)').count(), UI_WAIT).toBe(1);
    // The queue's actions menu (⋮ by the status tabs); the header's menu is the other one.
    await page.locator('button[aria-haspopup]').last().click();
    await page.getByText('Add job').first().click();
    // Prefilled from the schema's example: a valid nano-banana-pro edit. Wait for the form itself to be
    // rendered and filled (the editor loads the schema after the dialog opens).
    await page
      .getByText('put the product on a marble table')
      .first()
      .waitFor({ state: 'visible', ...UI_WAIT });
    await page.screenshot({ path: `${SHOTS}/board-add-job.png` });
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await waitFor(
      async () => (await jobs.getJobCounts('completed')).completed === countBefore + 1,
      30_000,
      'board job',
    );
    const [added] = await jobs.getJobs(['completed'], 0, 0);
    expect(added.data.input).toMatchObject({ prompt: 'put the product on a marble table' });
    expect(added.returnvalue.runId).toBeTruthy();
    expect(await fleet.ledger.totalMicroUsd(['catalog'])).toBe(before + 150_000);
    await page.goto(`${url}/spend`);
    await expectSpendPageMatchesLedger();
  });
});

/** Every number of the ledger part of /spend equals SpendLedger.rows, as `pnpm spend` renders them. */
async function expectSpendPageMatchesLedger(): Promise<void> {
  const rows = await fleet.ledger.rows(fleet.queues);
  expect(rows.length).toBeGreaterThan(0);
  const text = renderSpend(rows);
  const total = rows.reduce((sum, r) => sum + r.spendMicroUsd, 0);
  const cell = (testId: string) => page.getByTestId(testId).textContent();

  expect(await cell('ledger-total-micro-usd')).toBe(String(total));
  expect(await cell('ledger-total-usd')).toBe(formatMicroUsd(total));
  expect(text).toMatch(new RegExp(`total\\s+\\${formatMicroUsd(total)}\\s+${total}`));
  const today = new Date().toISOString().slice(0, 10);
  for (const queue of fleet.queues) {
    const mine = rows.filter((r) => r.queue === queue);
    const micro = mine.reduce((sum, r) => sum + r.spendMicroUsd, 0);
    const todayMicro = mine.filter((r) => r.day === today).reduce((sum, r) => sum + r.spendMicroUsd, 0);
    expect(await page.getByTestId(`ledger-queue-${queue}`).textContent()).toBe(
      `${queue}${formatMicroUsd(micro)}${micro}`,
    );
    expect(text).toMatch(new RegExp(`${queue}\\s+\\${formatMicroUsd(micro)}\\s+${micro}`));
    expect(await cell(`ledger-total-${queue}`)).toBe(formatMicroUsd(micro));
    expect(await cell(`spend-today-${queue}`)).toBe(formatMicroUsd(todayMicro));
    const counts = await fleet.producer.queue(queue).getJobCounts('completed', 'failed', 'delayed');
    expect(await cell(`completed-${queue}`)).toBe(String(counts.completed));
    expect(await cell(`failed-${queue}`)).toBe(String(counts.failed));
    expect(await cell(`parked-${queue}`)).toBe(String(counts.delayed));
    const byCallback = mine.reduce((sum, r) => sum + r.byCallback, 0);
    const byPoll = mine.reduce((sum, r) => sum + r.byPoll, 0);
    expect(await cell(`by-callback-${queue}`)).toBe(String(byCallback));
    expect(await cell(`by-poll-${queue}`)).toBe(String(byPoll));
  }
  // Every ledger row, with its exact spend, in the page's detail table.
  const detail = await page.getByTestId('ledger-detail').locator('tbody tr').allTextContents();
  expect(detail).toHaveLength(rows.length);
  rows.forEach((r, i) => {
    expect(detail[i]).toContain(r.model);
    expect(detail[i].endsWith(formatMicroUsd(r.spendMicroUsd))).toBe(true);
  });
  // The budget of catalog: spent = its ledger spend today.
  const catalogToday = rows
    .filter((r) => r.queue === 'catalog' && r.day === today)
    .reduce((s, r) => s + r.spendMicroUsd, 0);
  expect(await page.getByTestId('budget-catalog-day').textContent()).toContain(
    `${formatMicroUsd(catalogToday)} of ${formatMicroUsd(20_000_000)} today`,
  );
}
