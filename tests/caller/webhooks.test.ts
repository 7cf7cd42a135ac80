import { EditNotifier, type WebhookPayload } from '@runflow-queue/notifier';
import { createProducer, type EditProducer } from '@runflow-queue/producer';
import { type EditResult, EditValidationError } from '@runflow-queue/shared';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Fleet,
  nb2Edit,
  proEdit,
  quietLogger,
  releaseHeldCallbacks,
  startFleet,
  waitFor,
} from '../support/fleet.ts';
import { spawnWorker } from '../support/worker-process.ts';
import { startReceiver, type WebhookReceiver } from './webhook-receiver.ts';

const SIGNING_SECRET = 'whsec_dGVzdC1zaWduaW5nLXNlY3JldC0wMTIzNDU2Nzg5';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup.length = 0;
});

interface Setup {
  fleet: Fleet;
  producer: EditProducer;
  receiver: WebhookReceiver;
  notifier: EditNotifier;
}

/** A fleet whose worker is the real process (apps/worker main.ts) with the NOTIFY_* env. */
async function setup(workerEnv: Record<string, string>, receiverOptions = { failFirst: false }): Promise<Setup> {
  const fleet = await startFleet({ workers: false });
  cleanup.push(() => fleet.close());
  const receiver = await startReceiver(SIGNING_SECRET, receiverOptions);
  cleanup.push(() => receiver.close());
  const worker = spawnWorker(fleet, { FIRST_POLL_DELAY_MS: '10000', ...workerEnv });
  cleanup.push(() => worker.stop());
  const producer = createProducer({
    redis: fleet.redisUrl,
    prefix: fleet.prefix,
    notifyUrlPolicy: { allowHttpLoopback: true },
  });
  cleanup.push(() => producer.close());
  const notifier = new EditNotifier({ connection: fleet.redis, prefix: fleet.prefix, logger: quietLogger });
  cleanup.push(() => notifier.close());
  return { fleet, producer, receiver, notifier };
}

describe('webhooks (Standard Webhooks, signed, retried)', () => {
  it('delivers each job’s webhook once, verified, even when the receiver answers 500 first', async () => {
    const { fleet, producer, receiver, notifier } = await setup(
      { NOTIFY_SIGNING_SECRET: SIGNING_SECRET, NOTIFY_ALLOW_HTTP_LOOPBACK: 'true' },
      { failFirst: true },
    );
    fleet.sim.holdCallbacks(true);
    const tags = { costCenter: 'catalog', labels: { order: '1234' } };
    const ok1 = await producer.enqueueEdit('edits', { ...proEdit(), tags, notifyUrl: receiver.url });
    const ok2 = await producer.enqueueEdit('edits', { ...nb2Edit({ num_images: 2 }), notifyUrl: receiver.url });
    const abandoned = await producer.enqueueEdit('edits', { ...proEdit('cancel me'), notifyUrl: receiver.url });
    const silent = await producer.enqueueEdit('edits', proEdit('no webhook'));
    const queue = producer.queue('edits');
    await waitFor(
      async () => {
        const jobs = await Promise.all([ok1, ok2, abandoned, silent].map((h) => queue.getJob(h.id)));
        return jobs.every((job) => job?.data.step === 'submitted');
      },
      10_000,
      'all submitted',
    );
    await waitFor(async () => (await queue.getJobState(abandoned.id)) === 'delayed', 5_000, 'parked');
    expect(await abandoned.cancel()).toMatchObject({ outcome: 'abandoned' });
    await releaseHeldCallbacks(fleet);
    await ok1.result({ timeoutMs: 10_000 });
    await ok2.result({ timeoutMs: 10_000 });
    await silent.result({ timeoutMs: 10_000 });

    const ids = [ok1, ok2, abandoned].map((h) => `edits:${h.id}`);
    await waitFor(async () => receiver.accepted().length >= 3, 15_000, 'three webhooks accepted');
    // Give a double delivery every chance to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    for (const id of ids) {
      expect(receiver.received.filter((r) => r.webhookId === id && r.status === 200)).toHaveLength(1);
      expect(receiver.received.filter((r) => r.webhookId === id && r.status === 500)).toHaveLength(1);
    }
    expect(receiver.received.every((r) => r.check === 'valid')).toBe(true);
    expect(receiver.received).toHaveLength(6);
    expect(receiver.received.map((r) => r.webhookId)).not.toContain(`edits:${silent.id}`);

    const byId = new Map(receiver.accepted().map((r) => [r.webhookId, r.payload]));
    const first = byId.get(`edits:${ok1.id}`) as WebhookPayload;
    expect(first).toMatchObject({ type: 'edit.completed', id: ok1.id, queue: 'edits', tags });
    expect((first.data as EditResult).costMicroUsd).toBe(150_000);
    expect((first.data as EditResult).outputs[0].url).toMatch(/^http/);
    expect((first.data as EditResult).outputsExpireAt).toBeGreaterThan(Date.now());
    expect(((byId.get(`edits:${ok2.id}`) as WebhookPayload).data as EditResult).outputs).toHaveLength(2);
    expect(byId.get(`edits:${abandoned.id}`)).toMatchObject({
      type: 'edit.failed',
      data: { code: 'JOB_ABANDONED' },
    });
    for (const r of receiver.received) expect(Math.abs(r.timestamp - Date.now() / 1000)).toBeLessThan(60);

    // Every attempt is recorded: the 500, then the 2xx.
    const attempts = await notifier.attempts('edits', ok1.id);
    expect(attempts.map((a) => [a.attempt, a.status, a.ok])).toEqual([
      [1, 500, false],
      [2, 200, true],
    ]);
    expect(attempts.every((a) => a.durationMs >= 0)).toBe(true);
    // The abandoned job's spend still landed.
    expect(await fleet.ledger.totalMicroUsd(['edits'])).toBe(fleet.sim.billing().totalMicroUsd);
  });

  it('refuses a target at delivery that the workers do not allow, without retrying', async () => {
    // The producer allows loopback (as a dev machine might); the workers do not.
    const { producer, receiver, notifier } = await setup({ NOTIFY_SIGNING_SECRET: SIGNING_SECRET });
    const handle = await producer.enqueueEdit('edits', { ...proEdit(), notifyUrl: receiver.url });
    await handle.result({ timeoutMs: 10_000 });
    const attempts = await waitFor(
      async () => {
        const list = await notifier.attempts('edits', handle.id);
        return list.length > 0 ? list : undefined;
      },
      10_000,
      'delivery attempt',
    );
    expect(attempts).toHaveLength(1);
    expect(attempts[0].error).toMatch(/loopback/);
    const job = await notifier.queue.getJob(`edits.${handle.id}`);
    await waitFor(async () => (await job?.getState()) === 'failed', 5_000, 'notification failed');
    expect((await notifier.queue.getJob(`edits.${handle.id}`))?.failedReason).toMatch(/^NOTIFY_URL_REJECTED: /);
    expect(receiver.received).toHaveLength(0);
  });

  it('rejects a notifyUrl at enqueue: https only, no loopback or private networks unless allowed', async () => {
    const fleet = await startFleet({ workers: false });
    cleanup.push(() => fleet.close());
    const cases: [string, RegExp][] = [
      ['http://hooks.example.com/x', /must be an https:\/\/ URL/],
      ['ftp://hooks.example.com/x', /must be an https:\/\/ URL/],
      ['not a url', /absolute URL/],
      ['https://127.0.0.1:8443/x', /loopback.*NOTIFY_ALLOW_HTTP_LOOPBACK/],
      ['https://localhost/x', /loopback/],
      ['https://[::1]/x', /loopback/],
      ['https://10.1.2.3/x', /private network.*NOTIFY_ALLOW_PRIVATE_NETWORKS/],
      ['https://172.20.0.1/x', /private network/],
      ['https://192.168.1.10/x', /private network/],
      ['https://169.254.169.254/latest/meta-data', /private network/],
      ['https://[fd00:ec2::254]/', /private network/],
      ['https://[::ffff:10.0.0.1]/', /private network/],
      ['https://0.0.0.0/', /unspecified/],
    ];
    for (const [url, message] of cases) {
      const error = await fleet.producer
        .enqueueEdit('edits', { ...proEdit(), notifyUrl: url })
        .catch((e: unknown) => e as EditValidationError);
      expect(error, url).toBeInstanceOf(EditValidationError);
      const issue = (error as EditValidationError).issues.find((i) => i.path === 'notifyUrl');
      expect(issue?.value, url).toBe(url);
      expect(issue?.message, url).toMatch(message);
    }
    expect(await fleet.producer.queue('edits').count()).toBe(0);
    // Public https is fine; loopback over http only where the policy allows it.
    expect(fleet.producer.validate({ ...proEdit(), notifyUrl: 'https://hooks.example.com/runflow' })).toEqual([]);
    const devProducer = createProducer({
      redis: fleet.redisUrl,
      prefix: fleet.prefix,
      notifyUrlPolicy: { allowHttpLoopback: true },
    });
    cleanup.push(() => devProducer.close());
    expect(devProducer.validate({ ...proEdit(), notifyUrl: 'http://127.0.0.1:9000/hook' })).toEqual([]);
    expect(devProducer.validate({ ...proEdit(), notifyUrl: 'http://10.0.0.1/hook' })[0].message).toMatch(/private/);
  });
});
