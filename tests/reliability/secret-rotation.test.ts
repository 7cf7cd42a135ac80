import { buildApp, CALLBACK_PATH } from '@runflow-queue/callback-ingest';
import { createRunflowClient } from '@runflow-queue/runflow-client';
import { signBody } from '@runflow-queue/runflow-sim';
import { workloadsFromQueues } from '@runflow-queue/runtime';
import { DEFAULT_LIFECYCLE, type EditWorkers, startEditWorkers } from '@runflow-queue/worker';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { type Fleet, proEdit, quietLogger, startFleet } from '../support/fleet.ts';

// Invariant 6, secrets rotate without downtime: ingest trusts several secrets at once; the simulator
// switches its signer in the middle of a stream of jobs; no callback is refused and none is lost.

const OLD = 'whsec_rotation_old_0123456789';
const NEW = 'whsec_rotation_new_9876543210';
const UNUSED = 'whsec_rotation_spare_55555';

let fleet: Fleet | undefined;
let ingest: FastifyInstance | undefined;
let workers: EditWorkers | undefined;
afterEach(async () => {
  await workers?.close();
  await ingest?.close();
  await fleet?.close();
  workers = undefined;
  ingest = undefined;
  fleet = undefined;
});

describe('callback secret rotation', () => {
  it('switching the signer mid-run: zero 401s, zero lost callbacks, every job completed by its callback', async () => {
    fleet = await startFleet({ workers: false, sim: { signingSecret: OLD, latencyMs: { min: 50, max: 150 } } });
    const f = fleet;
    ingest = buildApp({
      redis: f.redis,
      prefix: f.prefix,
      queues: ['edits'],
      secrets: [OLD, NEW, UNUSED],
      logger: quietLogger,
    });
    const ingestUrl = await ingest.listen({ host: '127.0.0.1', port: 0 });
    const client = createRunflowClient({ baseUrl: f.sim.url, apiKey: f.sim.apiKey });
    workers = await startEditWorkers({
      connection: f.redis,
      prefix: f.prefix,
      workloads: workloadsFromQueues(['edits'], { concurrency: 8, requestsPerSecond: 10_000, burst: 10_000 }),
      governorKey: f.sim.apiKey,
      client,
      logger: quietLogger,
      lifecycle: {
        ...DEFAULT_LIFECYCLE,
        callbackUrl: `${ingestUrl}${CALLBACK_PATH}`,
        // No poll would come in time: a job finishes only if its callback was accepted.
        firstPollDelayMs: 120_000,
      },
    });

    const total = 80;
    const handles = [];
    let receivedAtSwitch = 0;
    for (let i = 0; i < total; i += 1) {
      handles.push(await f.producer.enqueueEdit('edits', proEdit(`rotation ${i}`)));
      if (i === total / 2) {
        receivedAtSwitch = (await f.inbox.counters('edits')).received;
        f.sim.setSigningSecret(NEW);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const results = await Promise.all(
      handles.map((handle) => f.producer.waitForResult('edits', handle.id, { timeoutMs: 20_000 })),
    );
    await f.sim.whenCallbacksSettled();
    await client.close();

    expect(results.every((result) => result.completedBy === 'callback')).toBe(true);
    // Both secrets signed part of the run.
    expect(receivedAtSwitch).toBeGreaterThan(0);
    expect(receivedAtSwitch).toBeLessThan(total);
    const attempts = f.sim.runs().flatMap((run) => run.deliveries);
    expect(attempts.filter((attempt) => attempt.statusCode === 401)).toEqual([]);
    expect(attempts.every((attempt) => attempt.signed && attempt.statusCode === 200)).toBe(true);
    expect(f.sim.stats().responsesByStatus['401']).toBeUndefined();
    expect(f.sim.stats().callbacksFailed).toBe(0);
    expect(await f.inbox.counters('edits')).toMatchObject({ received: total });
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(f.sim.billing().totalMicroUsd);

    // Rotation done: an ingest that dropped the old secret refuses what it signs.
    const body = JSON.stringify({ event: 'run.completed', run_id: 'late', status: 'succeeded', output: null });
    const trimmed = buildApp({
      redis: f.redis,
      prefix: f.prefix,
      queues: ['edits'],
      secrets: [NEW],
      logger: quietLogger,
    });
    const refused = await trimmed.inject({
      method: 'POST',
      url: CALLBACK_PATH,
      headers: { 'content-type': 'application/json', 'runflow-signature': signBody(OLD, body) },
      payload: body,
    });
    await trimmed.close();
    expect(refused.statusCode).toBe(401);
  });
});
