import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Quote } from '@runflow-queue/producer';
import { parseWorkloads } from '@runflow-queue/runtime';
import type { WorkloadsConfigInput } from '@runflow-queue/shared';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, type FleetOptions, nb2Edit, proEdit, startFleet } from '../support/fleet.ts';
import { row, runCli } from '../support/run-cli.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rfq-quote-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

/** A fleet whose workers run `workloads`, and the same workloads as a file for the CLI. */
async function start(workloads: WorkloadsConfigInput, options: FleetOptions = {}) {
  fleet = await startFleet({ workloads, ...options });
  const file = join(dir, `workloads-${fleet.prefix.replace(/\W/g, '')}.json`);
  writeFileSync(file, JSON.stringify(workloads));
  return { f: fleet, workloadsFile: file };
}

function writeJsonl(name: string, requests: readonly unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${requests.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return path;
}

/** 100 edits over both models, 1–3 images, with and without nano-banana-2's surcharges. */
function mixedEdits(): { requests: object[]; expectedMicroUsd: number } {
  const requests: object[] = [];
  let expectedMicroUsd = 0;
  for (let i = 0; i < 100; i += 1) {
    const images = (i % 3) + 1;
    if (i % 2 === 0) {
      requests.push({ ...proEdit(`quote ${i}`), input: { ...proEdit(`quote ${i}`).input, num_images: images } });
      expectedMicroUsd += 150_000 * images;
    } else {
      const thinking = i % 5 === 1;
      const search = i % 7 === 1;
      requests.push(
        nb2Edit({
          num_images: images,
          ...(thinking ? { thinking_level: 'high' } : {}),
          ...(search ? { enable_web_search: true } : {}),
          ...(i % 4 === 1 ? { resolution: '4K' } : {}),
        }),
      );
      expectedMicroUsd += (80_000 + (thinking ? 2_000 : 0) + (search ? 15_000 : 0)) * images;
    }
  }
  return { requests, expectedMicroUsd };
}

describe('quote', () => {
  it('prices a 100-line JSONL file to the micro-dollar the ledger books once it runs, enqueueing nothing', async () => {
    const { f, workloadsFile } = await start(
      {
        rateLimit: { requestsPerSecond: 200, burst: 20 },
        queues: [{ name: 'edits', budget: { dailyUsd: 100 } }],
      },
      { sim: { latencyMs: { min: 100, max: 300 } } },
    );
    // A queue with history: the ETA learns its run time and requests per job from these.
    const warmUp = await f.producer.enqueueEdits('edits', [proEdit('warm 1'), nb2Edit(), proEdit('warm 2')]);
    for (const h of warmUp) await h.result({ timeoutMs: 10_000 });
    const { requests, expectedMicroUsd } = mixedEdits();
    const file = writeJsonl('edits.jsonl', requests);
    const requestsBefore = f.sim.requestTimes().length;

    const json = await runCli(f, ['quote', '--file', file, '--workloads', workloadsFile, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const quote = JSON.parse(json.stdout) as Quote;
    expect(quote).toMatchObject({ queue: 'edits', count: 100, totalMicroUsd: expectedMicroUsd, estimated: true });
    expect(quote.lines.filter((l) => l.estimates.length > 0).length).toBeGreaterThan(0);
    expect(quote.eta.basis.join(' ')).toContain('the last 3 completed jobs');
    expect(quote.eta.etaMs).toBeGreaterThan(quote.eta.runMs);
    const [day] = quote.budget?.windows ?? [];
    expect(day).toMatchObject({ window: 'day', capMicroUsd: 100_000_000, admits: true });
    expect(day.remainingAfterMicroUsd).toBe(day.remainingMicroUsd - expectedMicroUsd);
    const table = await runCli(f, ['quote', '--file', file, '--workloads', workloadsFile]);
    expect(table.stdout).toMatch(/^line\s+model\s+images\s+per image\s+cost\s+cumulative\s+budget\s+eta\s+notes$/m);
    expect(row(table.stdout, '2')?.slice(1, 7)).toEqual([
      'google/nano-banana-2/edit',
      '2',
      '$0.097000',
      '$0.194000',
      '$0.344000',
      'yes',
    ]);
    expect(table.stdout).toContain(`total        $${(expectedMicroUsd / 1e6).toFixed(6)} (${expectedMicroUsd} µUSD)`);
    // A quote is a read: no job, no Runflow request.
    expect(await f.producer.queue('edits').getJobCounts('waiting', 'prioritized', 'delayed')).toEqual({
      waiting: 0,
      prioritized: 0,
      delayed: 0,
    });
    expect(f.sim.requestTimes().length).toBe(requestsBefore);

    const ledgerBefore = await f.ledger.totalMicroUsd(['edits']);
    const billedBefore = f.sim.billing().totalMicroUsd;
    const run = await runCli(f, ['enqueue', '--file', file, '--wait', '--timeout-s', '60']);
    expect(run.code, run.stderr).toBe(0);
    expect((await f.ledger.totalMicroUsd(['edits'])) - ledgerBefore).toBe(quote.totalMicroUsd);
    expect(f.sim.billing().totalMicroUsd - billedBefore).toBe(quote.totalMicroUsd);
  });

  it("says what the budget would not admit and which model the queue refuses; a bad line gets enqueue's error", async () => {
    const workloads: WorkloadsConfigInput = {
      queues: [{ name: 'edits', models: ['google/nano-banana-pro/edit'], budget: { dailyUsd: 0.2, policy: 'fail' } }],
    };
    const { f, workloadsFile } = await start(workloads, { workers: false });
    const file = writeJsonl('over.jsonl', [proEdit('a'), proEdit('b'), nb2Edit()]);
    const table = await runCli(f, ['quote', '--file', file, '--workloads', workloadsFile]);
    expect(table.code).toBe(1);
    expect(row(table.stdout, '1')?.[6]).toBe('yes');
    expect(row(table.stdout, '2')?.[6]).toBe('NO');
    expect(row(table.stdout, '3')?.at(-1)).toMatch(/^MODEL_NOT_ALLOWED: queue edits runs only google\/nano-banana-pro/);
    expect(table.stdout).toMatch(
      /budget day {3}cap \$0\.200000.*does NOT admit it \(policy fail\), -\$0\.100000 would remain/,
    );
    const quote = await f.producer.quote('edits', [proEdit('a'), proEdit('b'), nb2Edit()], {
      workloads: parseWorkloads(workloads),
    });
    expect(quote.totalMicroUsd).toBe(300_000);
    expect(quote.lines.map((l) => l.admitted)).toEqual([true, false, false]);
    expect(quote.budget?.admits).toBe(false);

    const bad = writeJsonl('bad.jsonl', [proEdit(), { ...proEdit(), input: { ...proEdit().input, resolution: '8K' } }]);
    const refused = await runCli(f, ['quote', '--file', bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('line 2: input.resolution: "8K"');
    expect(refused.stdout).toBe('');
    await expect(f.producer.quote('edits', { model: 'nope' } as never)).rejects.toMatchObject({
      code: 'UNKNOWN_MODEL',
    });
  });
});
