import { afterEach, describe, expect, it } from 'vitest';
import { type Fleet, startFleet, waitFor } from '../support/fleet.ts';
import { row, runCli } from '../support/run-cli.ts';
import { enqueueMany, FAST_HOLDS, holdsOf, waitAllEnded } from './holds-support.ts';

// The operator's controls: runflow-queue pause / resume / health against a running fleet.

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

describe('runflow-queue pause, resume, health', () => {
  it('pauses the account’s submits until resumed, and health says what holds them, why and since when', async () => {
    const f = await startFleet({ holds: FAST_HOLDS });
    fleet = f;
    const account = { RUNFLOW_API_KEY: f.sim.apiKey, USER: 'ops-alice' };
    const clear = await runCli(f, ['health'], account);
    expect(clear.code).toBe(0);
    expect(row(clear.stdout, 'breaker')?.[1]).toBe('closed');
    expect(row(clear.stdout, 'pause')?.[1]).toBe('none');
    expect(row(clear.stdout, 'learned caps')?.[1]).toBe('none');
    expect(row(clear.stdout, 'redis')?.[1]).toMatch(/^ok \(ping/);

    const paused = await runCli(f, ['pause', '--reason', 'prompt review'], account);
    expect(paused.code).toBe(0);
    expect(paused.stdout).toContain('paused new submits of the whole account');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const ids = await enqueueMany(f.producer, 'edits', 3, 'while paused');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(f.sim.runs()).toHaveLength(0);

    const held = await runCli(f, ['health', '--json'], account);
    expect(held.code).toBe(3);
    const health = JSON.parse(held.stdout);
    expect(health.holds.pauses).toEqual([{ since: expect.any(Number), reason: 'prompt review', by: 'ops-alice' }]);
    const table = await runCli(f, ['health'], account);
    expect(row(table.stdout, 'pause (account)')?.slice(1, 3)).toEqual([
      'PAUSED: no new submits',
      'prompt review (by ops-alice)',
    ]);

    expect((await runCli(f, ['resume'], account)).stdout).toContain('resumed submits of the whole account');
    expect(await waitAllEnded(f, 'edits', ids, 20_000)).toEqual([]);
    expect((await runCli(f, ['resume'], account)).stdout).toContain('was not paused');
    await waitFor(async () => (await holdsOf(f).snapshot()).pauses.length === 0, 2_000, 'no pause');
  });

  it('names what is missing: the account, a bad flag', async () => {
    const f = await startFleet({ workers: false });
    fleet = f;
    const noAccount = await runCli(f, ['pause']);
    expect(noAccount.code).toBe(2);
    expect(noAccount.stderr).toContain('set RATE_LIMIT_KEY or RUNFLOW_API_KEY');
    const bad = await runCli(f, ['resume', '--reason', 'x'], { RUNFLOW_API_KEY: 'k' });
    expect(bad.stderr).toContain('resume takes no --reason');
  });
});
