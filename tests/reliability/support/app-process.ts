import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Our apps as real processes (`node apps/<app>/src/main.ts`), their output kept in memory so tests can
// wait for a line, read the logs, and see how the process ended.

const MAIN = {
  worker: fileURLToPath(new URL('../../../apps/worker/src/main.ts', import.meta.url)),
  'callback-ingest': fileURLToPath(new URL('../../../apps/callback-ingest/src/main.ts', import.meta.url)),
  api: fileURLToPath(new URL('../../../apps/api/src/main.ts', import.meta.url)),
  dashboard: fileURLToPath(new URL('../../../apps/dashboard/src/main.ts', import.meta.url)),
};

export type AppName = keyof typeof MAIN;

export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface AppProcess {
  app: AppName;
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  exited: Promise<AppExit>;
  /** Resolves when the output contains `text`; rejects if the process exits or `timeoutMs` passes first. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  /** SIGTERM, SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<AppExit>;
}

/** Starts an app with exactly `env` (plus PATH). */
export function startApp(app: AppName, env: Record<string, string>): AppProcess {
  const child = spawn(process.execPath, [MAIN[app]], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    chunks.push(chunk.toString());
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<AppExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const output = () => chunks.join('');
  return {
    app,
    child,
    output,
    exited,
    waitFor(text, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!output().includes(text)) return;
          done();
          resolve();
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${app}: no "${text}" within ${timeoutMs} ms; output:\n${output().slice(-4_000)}`));
        }, timeoutMs);
        const onExit = () => {
          done();
          reject(new Error(`${app} exited before "${text}"; output:\n${output().slice(-4_000)}`));
        };
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
  };
}
