import { afterEach, describe, expect, it } from 'vitest';
import { type Sim, startSim } from './start-sim.ts';
import { api, createRun, editBody, fastOptions, PRO, pollUntilTerminal } from './test-support.ts';

// A Runflow outage: first every request answers 503, then the port refuses connections, then it is
// back on the same port; runs created before it still finish.

let sim: Sim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('outage', () => {
  it('answers 503 to every /v1 request, then refuses connections, then serves again on the same port', async () => {
    sim = await startSim(fastOptions({ latencyMs: { min: 300, max: 300 } }));
    const before = await createRun(sim, PRO, editBody());
    expect(before.status).toBe(201);

    await sim.setOutage('unavailable');
    const logged = sim.requestTimes().length;
    expect((await createRun(sim, PRO, editBody())).status).toBe(503);
    const get = await api(sim, `/v1/runs/${before.body.id}`);
    expect(get.status).toBe(503);
    expect(get.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect((await api(sim, '/v1/health')).status).toBe(503);
    expect((await api(sim, '/v1/billing/balance')).status).toBe(503);
    expect(sim.requestTimes().length - logged).toBe(4);
    expect(sim.config().outage).toBe('unavailable');

    const control = await fetch(`${sim.url}/_sim/outage`, {
      method: 'POST',
      body: JSON.stringify({ mode: 'refused' }),
    });
    expect(await control.json()).toEqual({ ok: true, outage: 'refused' });
    await expect.poll(() => sim?.config().outage).toBe('refused');
    await expect
      .poll(() =>
        fetch(`${sim?.url}/v1/health`).then(
          () => 'answered',
          (error: Error) => String((error.cause as NodeJS.ErrnoException)?.code),
        ),
      )
      .toBe('ECONNREFUSED');

    await sim.setOutage('off');
    expect((await api(sim, '/v1/health')).status).toBe(200);
    const finished = await pollUntilTerminal(sim, before.body.id);
    expect(finished.body.status_code).toBe('succeeded');
    expect((await createRun(sim, PRO, editBody())).status).toBe(201);
    expect(sim.runs()).toHaveLength(2);
  });

  it('refuses an unknown mode with a message that names the modes', async () => {
    sim = await startSim(fastOptions());
    const response = await fetch(`${sim.url}/_sim/outage`, { method: 'POST', body: JSON.stringify({ mode: 'down' }) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toContain('off, unavailable, refused');
    await expect(sim.setOutage('down' as 'off')).rejects.toThrow(/outage must be one of/);
  });
});
