import { afterEach, describe, expect, it } from 'vitest';
import { parseSimEnv } from './env.ts';
import { type Sim, startSim } from './start-sim.ts';
import { api, createRun, editBody, fastOptions, NB2, PRO, pollUntilTerminal } from './test-support.ts';

// The simulator can bill its own way — no surcharges, its own resolution tiers, records without cost —
// so tests prove the ledger follows Runflow's record, not our price table. And it pages its run list.

let sim: Sim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('billing its own way', () => {
  it('bills no surcharges and its own tier price, and shows it on the run', async () => {
    sim = await startSim(
      fastOptions({ pricing: { surcharges: 'none', tierPriceMicroUsd: { [NB2]: { '2K': 120_000 } } } }),
    );
    const plain = await createRun(sim, NB2, editBody({ thinking_level: 'high', enable_web_search: true }));
    const tier = await createRun(sim, NB2, editBody({ resolution: '2K', num_images: 2 }));
    const a = await pollUntilTerminal(sim, plain.body.id);
    const b = await pollUntilTerminal(sim, tier.body.id);
    // Our table says 80,000 + 15,000 + 2,000 for the first and 2 × 80,000 for the second.
    expect(a.body).toMatchObject({ cost: '0.080000', cost_breakdown: { surcharges: [], total_micro_usd: 80_000 } });
    expect(b.body).toMatchObject({ cost: '0.240000', cost_breakdown: { per_image_micro_usd: 120_000 } });
    expect(sim.billing().totalMicroUsd).toBe(320_000);
  });

  it('bills a no-cost model without a cost on its record; changes at runtime and refuses bad fields', async () => {
    sim = await startSim(fastOptions());
    const control = await fetch(`${sim.url}/_sim/config`, {
      method: 'POST',
      body: JSON.stringify({ pricing: { noCostModels: [PRO] } }),
    });
    expect(control.status).toBe(200);
    const run = await createRun(sim, PRO, editBody());
    const done = await pollUntilTerminal(sim, run.body.id);
    expect(done.body).toMatchObject({ status_code: 'succeeded', cost: null });
    expect(sim.billing().totalMicroUsd).toBe(150_000);
    expect(() => sim?.setPricing({ surcharges: 'some' as 'none' })).toThrow(
      /pricing.surcharges must be "table" or "none"/,
    );
    const bad = await fetch(`${sim.url}/_sim/config`, {
      method: 'POST',
      body: JSON.stringify({ pricing: { tierPriceMicroUsd: { [NB2]: { '2K': 1.5 } } } }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain(`pricing.tierPriceMicroUsd.${NB2}.2K`);
    expect(() => parseSimEnv({ SIM_PRICING: '{"surcharge":"none"}' })).toThrow(/SIM_PRICING/);
    expect(parseSimEnv({ SIM_PRICING: '{"surcharges":"none"}' }).pricing).toMatchObject({ surcharges: 'none' });
  });

  it('pages GET /v1/runs by creation time, oldest first, with a cursor', async () => {
    sim = await startSim(fastOptions());
    const from = new Date(Date.now() - 1_000).toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 7; i += 1) ids.push((await createRun(sim, PRO, editBody({ prompt: `p${i}` }))).body.id);
    const to = new Date(Date.now() + 1_000).toISOString();
    const q = encodeURIComponent(`created_at>=${from} AND created_at<${to}`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await api(sim, `/v1/runs?q=${q}&sort_by=created_at:asc&limit=3${cursor ? `&pq=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((run: { id: string }) => run.id));
      cursor = page.body.next;
    } while (cursor);
    expect(seen).toEqual(ids);
    const none = await api(sim, `/v1/runs?q=${encodeURIComponent(`created_at<${from}`)}`);
    expect(none.body.items).toEqual([]);
    expect((await api(sim, `/v1/runs?q=${encodeURIComponent('status_code:succeeded')}`)).status).toBe(422);
  });
});
