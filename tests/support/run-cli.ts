import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The real `runflow-queue` CLI as a child process against a fleet's Redis, as an operator runs it.

const CLI = fileURLToPath(new URL('../../apps/cli/src/main.ts', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with the fleet's REDIS_URL and REDIS_PREFIX, plus `env`; resolves when it exits. */
export function runCli(
  f: { redisUrl: string; prefix: string },
  args: string[],
  env: Record<string, string> = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, REDIS_URL: f.redisUrl, REDIS_PREFIX: f.prefix, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A row of a formatTable table as its cells, found by its first cell. */
export function row(text: string, first: string): string[] | undefined {
  const line = text.split('\n').find((l) => l.trim().split(/\s{2,}/)[0] === first);
  return line?.trim().split(/\s{2,}/);
}
