import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunflowClient } from '@runflow-queue/runflow-client';
import { startSim } from '@runflow-queue/runflow-sim';
import { workloadsFromQueues } from '@runflow-queue/runtime';
import { type EditJobData, isTerminalStatus } from '@runflow-queue/shared';
import { bullPrefix } from '@runflow-queue/store';
import { DEFAULT_LIFECYCLE, startEditWorkers } from '@runflow-queue/worker';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, type FleetOptions, nb2Edit, proEdit, quietLogger, startFleet, waitFor } from '../support/fleet.ts';
import { row, runCli } from '../support/run-cli.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rfq-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

async function start(options: FleetOptions = {}): Promise<Fleet> {
  fleet = await startFleet(options);
  return fleet;
}

function writeJsonl(name: string, lines: readonly string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describe('runflow-queue CLI', () => {
  it('enqueues a 100-line JSONL file with progress, a table, and with --wait the outcome and spend', async () => {
    const f = await start();
    const lines = Array.from({ length: 100 }, (_, i) =>
      JSON.stringify(i % 4 === 0 ? { ...nb2Edit(), tags: { costCenter: 'cli' } } : proEdit(`edit ${i}`)),
    );
    const file = writeJsonl('edits.jsonl', lines);
    const run = await runCli(f, ['enqueue', '--file', file, '--key-prefix', 'batch-1', '--wait', '--timeout-s', '60']);
    expect(run.stderr).toMatch(/enqueued: \d+\/100 \(\d+%\)/);
    expect(run.stderr).toContain('enqueued: 100/100 (100%)');
    expect(run.stderr).toContain('finished: 100/100 (100%)');
    expect(row(run.stdout, 'enqueued')).toEqual(['enqueued', '100']);
    expect(row(run.stdout, 'deduplicated')).toEqual(['deduplicated', '0']);
    expect(row(run.stdout, 'invalid')).toEqual(['invalid', '0']);
    expect(row(run.stdout, 'google/nano-banana-pro/edit')).toEqual([
      'google/nano-banana-pro/edit',
      '75',
      '0',
      '75',
      '$11.250000',
    ]);
    expect(row(run.stdout, 'google/nano-banana-2/edit')).toEqual([
      'google/nano-banana-2/edit',
      '25',
      '0',
      '25',
      '$2.000000',
    ]);
    expect(row(run.stdout, 'total')).toEqual(['total', '100', '0', '100', '$13.250000']);
    expect(run.code).toBe(0);
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(13_250_000);

    // Run it again: the key prefix makes every line a replay, nothing new is enqueued or paid for.
    const again = await runCli(f, ['enqueue', '--file', file, '--key-prefix', 'batch-1']);
    expect(row(again.stdout, 'enqueued')).toEqual(['enqueued', '0']);
    expect(row(again.stdout, 'deduplicated')).toEqual(['deduplicated', '100']);
    expect(f.sim.stats().runsCreated).toBe(100);
  });

  it('reports bad lines by line number and enqueues nothing', async () => {
    const f = await start({ workers: false });
    const file = writeJsonl('bad.jsonl', [
      JSON.stringify(proEdit()),
      '',
      '{"model": "google/nano-banana-pro/edit", "input": ',
      JSON.stringify(nb2Edit()),
      JSON.stringify({ ...proEdit(), input: { ...proEdit().input, resolution: '8K' } }),
      JSON.stringify({ ...nb2Edit(), notifyUrl: 'http://hooks.example.com/x' }),
      '[1,2]',
    ]);
    const run = await runCli(f, ['enqueue', '--file', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('4 of 6 line(s)');
    expect(run.stderr).toMatch(/line 3: not valid JSON/);
    expect(run.stderr).toContain('line 5: input.resolution: "8K" — Invalid option');
    expect(run.stderr).toContain('allowed: 1K, 2K, 4K');
    expect(run.stderr).toMatch(/line 6: notifyUrl: "http:\/\/hooks\.example\.com\/x" — must be an https/);
    expect(run.stderr).toMatch(/line 7: must be a JSON object/);
    expect(run.stderr).toContain('--skip-invalid');
    expect(row(run.stdout, 'enqueued')).toEqual(['enqueued', '0']);
    expect(row(run.stdout, 'invalid')).toEqual(['invalid', '4']);
    expect(await f.producer.queue('edits').count()).toBe(0);

    const skipping = await runCli(f, ['enqueue', '--file', file, '--skip-invalid']);
    expect(skipping.code).toBe(1);
    expect(row(skipping.stdout, 'enqueued')).toEqual(['enqueued', '2']);
    expect(row(skipping.stdout, 'invalid')).toEqual(['invalid', '4']);
    expect(await f.producer.queue('edits').count()).toBe(2);
  });

  it('enqueues from flags, shows status, waits; errors name the flag, the value and what to do', async () => {
    const f = await start();
    const enqueue = await runCli(f, [
      'enqueue',
      '--model',
      'google/nano-banana-2/edit',
      '--prompt',
      'add a hat',
      '--image-url',
      'https://example.com/in.png',
      '--num-images',
      '2',
      '--cost-center',
      'ops',
      '--label',
      'ticket=OPS-1',
    ]);
    expect(enqueue.code).toBe(0);
    const id = /enqueued (\S+) in queue edits/.exec(enqueue.stdout)?.[1] as string;
    expect(id).toBeDefined();
    const wait = await runCli(f, ['wait', id, '--timeout-s', '20']);
    expect(wait.code).toBe(0);
    expect(wait.stdout).toMatch(/cost\s+\$0\.160000 \(160000 µUSD\)/);
    expect(wait.stdout).toMatch(/output 2\s+http/);
    expect(wait.stdout).toMatch(/outputs expire\s+\d{4}-\d\d-\d\dT.*copy them before then/);
    const status = await runCli(f, ['status', id]);
    expect(status.stdout).toMatch(/state\s+completed/);
    expect(status.stdout).toMatch(/labels\s+ticket=OPS-1/);
    expect(status.stdout).toMatch(/cost center\s+ops/);

    const bad = await runCli(f, [
      'enqueue',
      '--model',
      'google/nano-banana-pro/edit',
      '--prompt',
      'x',
      '--image-url',
      'https://e.com/a.png',
      '--resolution',
      '0.5K',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('input.resolution: "0.5K" — Invalid option');
    expect(bad.stderr).toContain('(flag --resolution)');
    const badFlag = await runCli(f, ['enqueue', '--num-images', 'two', '--model', 'google/nano-banana-2/edit']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain('--num-images "two": must be a whole number ≥ 1, e.g. --num-images 2');
    const unknown = await runCli(f, ['status', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no job nope in queue edits');
    for (const command of ['enqueue', 'quote', 'status', 'wait', 'retry-failed', 'spend', 'stats']) {
      const help = await runCli(f, [command, '--help']);
      expect(help.code, command).toBe(0);
      expect(help.stdout, command).toContain(`runflow-queue ${command}`);
    }
    const stats = await runCli(f, ['stats', '--queue', 'edits']);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/^queue\s+waiting\s+active\s+parked/m);
    expect(stats.stdout).toMatch(/^edits\s+/m);
  });

  it('retries failed jobs by code, skipping what a retry cannot fix', async () => {
    const f = await start({ sim: { faults: { runFailed: 1 } } });
    const handles = await f.producer.enqueueEdits('edits', [proEdit('a'), proEdit('b'), nb2Edit()]);
    for (const h of handles)
      await expect(h.result({ timeoutMs: 10_000 })).rejects.toMatchObject({ code: 'RUN_FAILED' });
    f.sim.clearFaults();
    f.sim.holdCallbacks(true);
    const abandoned = await f.producer.enqueueEdit('edits', proEdit('cancelled'));
    await waitFor(async () => (await abandoned.status()).state === 'delayed', 5_000, 'parked');
    await abandoned.cancel();
    f.sim.holdCallbacks(false);
    await f.sim.releaseCallbacks();
    await expect(abandoned.result({ timeoutMs: 10_000 })).rejects.toMatchObject({ code: 'JOB_ABANDONED' });

    const dry = await runCli(f, ['retry-failed', '--dry-run']);
    expect(dry.stdout).toContain('would retry 3, skipped 1');
    expect(row(dry.stdout, abandoned.id)?.slice(2, 4)).toEqual(['JOB_ABANDONED', 'skipped']);
    const run = await runCli(f, ['retry-failed', '--code', 'run_failed']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('retried 3, skipped 0');
    for (const h of handles) expect(row(run.stdout, h.id)?.slice(2, 4)).toEqual(['RUN_FAILED', 'retried']);
    for (const h of handles) expect((await h.result({ timeoutMs: 10_000 })).outputs).toHaveLength(1);
    // Failed runs cost nothing; the new runs are settled once each.
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(f.sim.billing().totalMicroUsd);
    expect((await runCli(f, ['retry-failed'])).stdout).toContain('retried 0, skipped 1');
  });

  it("looks a failed job's run up before it retries: adopts a run that succeeded, never pays twice", async () => {
    // Runs take 1.5 s, the deadline is 300 ms, no callbacks: the jobs fail RUN_DEADLINE_EXCEEDED while
    // their runs go on to succeed and bill, the money a blind resubmit would pay a second time.
    const f = await start({
      callbacks: false,
      sim: { latencyMs: { min: 1_500, max: 1_500 } },
      lifecycle: { firstPollDelayMs: 50, pollIntervalMs: 50, maxPollIntervalMs: 100 },
      workloads: {
        rateLimit: { requestsPerSecond: 10_000, burst: 10_000 },
        queues: [{ name: 'edits', deadlineMs: 300 }],
      },
    });
    const handles = await f.producer.enqueueEdits('edits', [proEdit('a'), nb2Edit()]);
    for (const h of handles)
      await expect(h.result({ timeoutMs: 10_000 })).rejects.toMatchObject({ code: 'RUN_DEADLINE_EXCEEDED' });
    await waitFor(async () => f.sim.runs().every((r) => isTerminalStatus(r.status_code)), 10_000, 'runs finished');
    const billed = f.sim.billing().totalMicroUsd;
    expect(billed).toBe(150_000 + 80_000);
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(0);
    const runflow = { RUNFLOW_BASE_URL: f.sim.url, RUNFLOW_API_KEY: f.sim.apiKey };

    const blind = await runCli(f, ['retry-failed', '--dry-run']);
    expect(blind.stdout).toContain('would retry 0, skipped 2');
    expect(blind.stdout).toContain('set RUNFLOW_API_KEY');
    // Another account's Runflow has no such runs: left alone, unless forced.
    const other = await startSim();
    try {
      const elsewhere = { RUNFLOW_BASE_URL: other.url, RUNFLOW_API_KEY: other.apiKey };
      const missing = await runCli(f, ['retry-failed'], elsewhere);
      expect(missing.stdout).toContain('retried 0, skipped 2');
      expect(missing.stdout).toContain('not found on Runflow; left alone');
      const forced = await runCli(f, ['retry-failed', '--dry-run', '--force'], elsewhere);
      expect(forced.stdout).toContain('would retry 2, skipped 0');
    } finally {
      await other.close();
    }

    const retry = await runCli(f, ['retry-failed', '--code', 'RUN_DEADLINE_EXCEEDED'], runflow);
    expect(retry.code).toBe(0);
    expect(retry.stdout).toContain('retried 2, skipped 0');
    for (const h of handles) {
      expect(row(retry.stdout, h.id)?.slice(2, 4)).toEqual(['RUN_DEADLINE_EXCEEDED', 'retried']);
      expect(row(retry.stdout, h.id)?.join(' ')).toContain('adopts run');
      const result = await h.result({ timeoutMs: 10_000 });
      expect(result.outputs).toHaveLength(1);
      expect(result.completedBy).toBe('poll');
    }
    // No second run: the two runs Runflow billed are the two the ledger settled, once each.
    expect(f.sim.runs()).toHaveLength(2);
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(billed);
  });

  it('a job whose park after submit meets Redis refusing writes does not fail: it retries and completes with its one run', async () => {
    // Before invariant 9 this job failed ATTEMPTS_EXHAUSTED with a run Runflow completed and billed.
    let refusals = 3;
    const f = await start({
      callbacks: false,
      sim: { latencyMs: { min: 300, max: 300 } },
      workloads: {
        rateLimit: { requestsPerSecond: 10_000, burst: 10_000 },
        queues: [{ name: 'edits', attempts: 1 }],
      },
      hooks: {
        beforePark: async (_job, data) => {
          if (refusals > 0 && data.step === 'submitted') {
            refusals -= 1;
            throw new Error('OOM command not allowed when used memory > maxmemory');
          }
        },
      },
    });
    const handle = await f.producer.enqueueEdit('edits', nb2Edit());
    expect((await handle.result({ timeoutMs: 20_000 })).costMicroUsd).toBe(80_000);
    expect(refusals).toBeLessThan(3); // it met Redis refusing at least once
    expect(f.sim.runs()).toHaveLength(1);
    expect(await f.ledger.totalMicroUsd(['edits'])).toBe(80_000);
  });

  it('adopts the billed run of a job an earlier deploy failed ATTEMPTS_EXHAUSTED after its submit', async () => {
    // An earlier deploy's worker: it submitted the run, recorded it, then failed the job on a Redis
    // error. Runflow completes and bills the run; a blind resubmit would pay for the edit twice.
    const f = await start({ callbacks: false, workers: false, sim: { latencyMs: { min: 300, max: 300 } } });
    const client = createRunflowClient({ baseUrl: f.sim.url, apiKey: f.sim.apiKey });
    const earlier = new Worker<EditJobData>(
      'edits',
      async (job) => {
        const clientRef = 'rq_earlier_deploy';
        const run = await client.createRun(
          job.data.model,
          { input: job.data.input, client_ref: clientRef, metadata: { queue: 'edits', jobId: job.id, clientRef } },
          { idempotencyKey: clientRef },
        );
        await job.updateData({ ...job.data, step: 'submitted', clientRef, runId: run.id, submittedAt: Date.now() });
        throw new UnrecoverableError('ATTEMPTS_EXHAUSTED: 1 attempt(s) failed; last: OOM command not allowed');
      },
      { connection: f.redis, prefix: bullPrefix(f.prefix, 'edits') },
    );
    const handle = await f.producer.enqueueEdit('edits', nb2Edit());
    await expect(handle.result({ timeoutMs: 10_000 })).rejects.toMatchObject({ code: 'ATTEMPTS_EXHAUSTED' });
    await earlier.close();
    await waitFor(async () => f.sim.runs().every((r) => isTerminalStatus(r.status_code)), 10_000, 'run finished');
    expect(f.sim.billing().totalMicroUsd).toBe(80_000);
    const workers = await startEditWorkers({
      connection: f.redis,
      prefix: f.prefix,
      workloads: workloadsFromQueues(['edits'], { concurrency: 4, requestsPerSecond: 10_000, burst: 10_000 }),
      governorKey: f.sim.apiKey,
      client,
      logger: quietLogger,
      lifecycle: { ...DEFAULT_LIFECYCLE, firstPollDelayMs: 500, pollIntervalMs: 500 },
    });
    try {
      const retry = await runCli(f, ['retry-failed', '--code', 'ATTEMPTS_EXHAUSTED'], {
        RUNFLOW_BASE_URL: f.sim.url,
        RUNFLOW_API_KEY: f.sim.apiKey,
      });
      expect(row(retry.stdout, handle.id)?.join(' ')).toMatch(/retried adopts run \S+ \(succeeded\)/);
      expect((await handle.result({ timeoutMs: 10_000 })).costMicroUsd).toBe(80_000);
      expect(f.sim.runs()).toHaveLength(1);
      expect(await f.ledger.totalMicroUsd(['edits'])).toBe(80_000);
    } finally {
      await workers.close();
      await client.close();
    }
  });
});
