import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('main.ts', () => {
  it('prints the URL and key, serves requests, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, SIM_PORT: '0', SIM_API_KEY: 'main-key', SIM_LATENCY_MS: '0-0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => resolve(chunk.toString()));
      child.once('exit', (code) => reject(new Error(`exited ${code} before listening`)));
    });
    const url = /(http:\/\/\S+)/.exec(line)?.[1];
    expect(line).toContain('main-key');
    const health = await fetch(`${url}/v1/health`);
    expect(await health.json()).toEqual({ ok: true });
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });

  it('exits 1 with a message naming a bad variable', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, SIM_LATENCY_MS: 'soon' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('SIM_LATENCY_MS="soon"');
  });
});
