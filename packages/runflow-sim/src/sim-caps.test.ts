import { afterEach, describe, expect, it } from 'vitest';
import { parseSimEnv } from './env.ts';
import { type Sim, startSim } from './start-sim.ts';
import {
  type ApiResponse,
  api,
  createRun,
  editBody,
  fastOptions,
  NB2,
  PRO,
  pollUntilTerminal,
  sleep,
} from './test-support.ts';

// Per-model concurrency caps (runflow-api.md §6): a cap follows the runs in flight, not the request
// rate. Reject mode answers 429 RATE_LIMITED without Retry-After; queue mode accepts the run and keeps
// it queued until a slot frees.

let sim: Sim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('concurrency caps', () => {
  it('reject mode: over the cap a create gets 429 without Retry-After, other models are not capped, a finished run frees a slot', async () => {
    sim = await startSim(
      fastOptions({
        latencyMs: { min: 300, max: 300 },
        retryAfter: true, // even where rate-limit 429s carry Retry-After, a cap's 429 does not
        concurrencyCaps: { models: { [PRO]: 2 } },
      }),
    );
    const first = await createRun(sim, PRO, editBody());
    const second = await createRun(sim, PRO, editBody());
    const third = await createRun(sim, PRO, editBody());
    expect([first.status, second.status, third.status]).toEqual([201, 201, 429]);
    expect(third.body).toMatchObject({ code: 'RATE_LIMITED' });
    expect(third.body.message).toMatch(/2 runs of google\/nano-banana-pro\/edit in flight/);
    expect(third.headers.get('retry-after')).toBeNull();
    expect((await createRun(sim, NB2, editBody())).status).toBe(201);

    await pollUntilTerminal(sim, first.body.id);
    expect((await createRun(sim, PRO, editBody())).status).toBe(201);
    expect(sim.stats()).toMatchObject({ capRejected: 1, runsCreated: 4, rateLimited: 0 });
  });

  it('queue mode: over-cap runs are accepted and stay queued until a slot frees, first in first out', async () => {
    sim = await startSim(
      fastOptions({ latencyMs: { min: 200, max: 200 }, concurrencyCaps: { models: { [PRO]: 1 }, mode: 'queue' } }),
    );
    const created: ApiResponse[] = [];
    for (let i = 0; i < 3; i += 1) created.push(await createRun(sim, PRO, editBody()));
    expect(created.map((r) => r.status)).toEqual([201, 201, 201]);
    await sleep(100);
    const statuses = async () =>
      Promise.all(created.map(async (r) => (await api(sim as Sim, `/v1/runs/${r.body.id}`)).body.status_code));
    expect(await statuses()).toEqual(['running', 'queued', 'queued']);

    const done = await Promise.all(created.map((r) => pollUntilTerminal(sim as Sim, r.body.id, 5_000)));
    expect(done.map((r) => r.body.status_code)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    // One at a time: each started after the previous one finished.
    const started = done.map((r) => Date.parse(r.body.started_at));
    const completed = done.map((r) => Date.parse(r.body.completed_at));
    expect(started[1]).toBeGreaterThanOrEqual(completed[0]);
    expect(started[2]).toBeGreaterThanOrEqual(completed[1]);
    expect(sim.stats()).toMatchObject({ capQueued: 2, capRejected: 0 });
  });

  it('changes at runtime through POST /_sim/config and setConcurrencyCaps; a raised cap starts waiting runs', async () => {
    sim = await startSim(fastOptions({ latencyMs: { min: 400, max: 400 } }));
    const bad = await fetch(`${sim.url}/_sim/config`, {
      method: 'POST',
      body: JSON.stringify({ concurrencyCaps: { models: { [PRO]: 0 } } }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(
      /concurrencyCaps\.models\["google\/nano-banana-pro\/edit"\] must be an integer ≥ 1/,
    );

    const ok = await fetch(`${sim.url}/_sim/config`, {
      method: 'POST',
      body: JSON.stringify({ concurrencyCaps: { models: { [PRO]: 1 }, mode: 'queue' } }),
    });
    expect(((await ok.json()) as { config: { concurrencyCaps: unknown } }).config.concurrencyCaps).toEqual({
      models: { [PRO]: 1 },
      mode: 'queue',
    });
    const a = await createRun(sim, PRO, editBody());
    const b = await createRun(sim, PRO, editBody());
    await sleep(50);
    expect((await api(sim, `/v1/runs/${b.body.id}`)).body.status_code).toBe('queued');
    sim.setConcurrencyCaps(null);
    await sleep(150);
    expect((await api(sim, `/v1/runs/${b.body.id}`)).body.status_code).toBe('running');
    expect((await api(sim, `/v1/runs/${a.body.id}`)).body.status_code).toBe('running');
    expect(sim.config().concurrencyCaps).toBeNull();
  });

  it('reads SIM_CONCURRENCY_CAPS and SIM_CAP_MODE, naming the variable on a bad value', () => {
    expect(parseSimEnv({ SIM_CONCURRENCY_CAPS: `${PRO}=4, ${NB2}=8`, SIM_CAP_MODE: 'queue' }).concurrencyCaps).toEqual({
      models: { [PRO]: 4, [NB2]: 8 },
      mode: 'queue',
    });
    expect(parseSimEnv({ SIM_CONCURRENCY_CAPS: `${PRO}=4` }).concurrencyCaps).toEqual({
      models: { [PRO]: 4 },
      mode: 'reject',
    });
    expect(() => parseSimEnv({ SIM_CONCURRENCY_CAPS: 'nope' })).toThrow(/^SIM_CONCURRENCY_CAPS="nope" is invalid/);
    expect(() => parseSimEnv({ SIM_CONCURRENCY_CAPS: 'acme/x=3' })).toThrow(/"acme\/x" is not a model/);
    expect(() => parseSimEnv({ SIM_CONCURRENCY_CAPS: `${PRO}=1`, SIM_CAP_MODE: 'drop' })).toThrow(
      /^SIM_CAP_MODE="drop"/,
    );
  });
});
