import { afterEach, describe, expect, it } from 'vitest';
import { parseSimEnv } from './env.ts';
import { type Sim, startSim } from './start-sim.ts';
import { api, createRun, editBody, fastOptions, PRO, pollUntilTerminal } from './test-support.ts';

// The prepaid balance (runflow-api.md §7): billed runs debit it, creates are refused 402 once it is
// spent, in-flight runs still finish, GET /v1/billing/balance reports it, and a top-up resumes creates.

let sim: Sim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('credit', () => {
  it('debits billed runs, refuses creates with 402 once spent, lets in-flight runs finish, resumes on a top-up', async () => {
    sim = await startSim(fastOptions({ balanceMicroUsd: 200_000, latencyMs: { min: 50, max: 50 } }));
    expect((await api(sim, '/v1/billing/balance')).body).toEqual({ balance_cents: 20, currency: 'USD' });

    // Two creates while the balance is positive: both accepted, the second takes it below zero.
    const first = await createRun(sim, PRO, editBody());
    const second = await createRun(sim, PRO, editBody());
    expect([first.status, second.status]).toEqual([201, 201]);
    await pollUntilTerminal(sim, first.body.id);
    const finished = await pollUntilTerminal(sim, second.body.id);
    expect(finished.body.status_code).toBe('succeeded');
    expect(sim.balance()).toBe(200_000 - 2 * 150_000);

    const refused = await createRun(sim, PRO, editBody());
    expect(refused.status).toBe(402);
    expect(refused.body).toMatchObject({ code: 'INSUFFICIENT_CREDIT' });
    expect(sim.stats()).toMatchObject({ insufficientCredit: 1, runsCreated: 2 });
    expect((await api(sim, '/v1/billing/balance')).body.balance_cents).toBe(-10);

    const topUp = await fetch(`${sim.url}/_sim/balance`, {
      method: 'POST',
      body: JSON.stringify({ topUpMicroUsd: 1_000_000 }),
    });
    expect(await topUp.json()).toEqual({ balanceMicroUsd: 900_000 });
    expect((await createRun(sim, PRO, editBody())).status).toBe(201);
    expect(sim.billing().balanceMicroUsd).toBe(900_000);
  });

  it('replays an idempotent create without credit: the run already exists and costs nothing new', async () => {
    sim = await startSim(fastOptions({ balanceMicroUsd: 100_000 }));
    const headers = { 'idempotency-key': 'k-1' };
    const created = await createRun(sim, PRO, editBody(), headers);
    await pollUntilTerminal(sim, created.body.id);
    expect(sim.balance()).toBe(-50_000);
    const replayed = await createRun(sim, PRO, editBody(), headers);
    expect(replayed.status).toBe(201);
    expect(replayed.body.id).toBe(created.body.id);
  });

  it('has no limit by default, and reads SIM_BALANCE_USD', async () => {
    sim = await startSim(fastOptions());
    expect(sim.balance()).toBeNull();
    expect((await api(sim, '/v1/billing/balance')).status).toBe(200);
    expect(parseSimEnv({ SIM_BALANCE_USD: '10.5' }).balanceMicroUsd).toBe(10_500_000);
    expect(() => parseSimEnv({ SIM_BALANCE_USD: '$10' })).toThrow(/SIM_BALANCE_USD="\$10" is invalid/);
  });

  it('refuses a bad balance control call, naming what to send', async () => {
    sim = await startSim(fastOptions());
    const bad = await fetch(`${sim.url}/_sim/balance`, { method: 'POST', body: JSON.stringify({ topUp: 5 }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ message: expect.stringContaining('topUpMicroUsd') });
  });
});
