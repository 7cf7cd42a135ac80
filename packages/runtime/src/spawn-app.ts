import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Our apps as real processes (`node apps/<app>/src/main.ts`), as they run in production — for the
// tests, the benchmarks, the demo and the chaos runner alike. The output is kept (its last part, in
// memory) so a caller can wait for a line, read the logs and see how the process ended.

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

export interface SpawnAppOptions {
  /** Also append stdout and stderr to this file. */
  logFile?: string;
  /** How much of the output is kept in memory (default 4 MiB; the oldest part is dropped first). */
  keepBytes?: number;
}

export interface AppProcess {
  /** The app's name (or the script's label). */
  app: string;
  child: ChildProcess;
  /** The output kept so far (stdout and stderr interleaved as they came). */
  output(): string;
  exited: Promise<AppExit>;
  /** Resolves when the output contains `text`; rejects if the process exits or `timeoutMs` passes first. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<AppExit>;
  /** SIGKILL: nothing is finished, parked or closed. */
  kill(): Promise<AppExit>;
}

/** Starts an app with exactly `env` (plus PATH). */
export function spawnApp(app: AppName, env: Record<string, string>, options: SpawnAppOptions = {}): AppProcess {
  return spawnScript(app, MAIN[app], env, options);
}

/** Starts any Node script the same way (a benchmark's baseline worker); `app` labels it in errors. */
export function spawnScript(
  app: string,
  mainPath: string,
  env: Record<string, string>,
  options: SpawnAppOptions = {},
): AppProcess {
  const child = spawn(process.execPath, [mainPath], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keepBytes = options.keepBytes ?? 4 * 1024 * 1024;
  const file = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  let kept = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    file?.write(chunk);
    kept += chunk.toString();
    if (kept.length > keepBytes) kept = kept.slice(-keepBytes);
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<AppExit>((resolve) =>
    child.once('exit', (code, signal) => {
      file?.end();
      resolve({ code, signal });
    }),
  );
  const output = () => kept;
  const where = options.logFile ? ` (${options.logFile})` : '';
  const isDone = () => child.exitCode !== null || child.signalCode !== null;

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
          reject(new Error(`${app}: no "${text}" within ${timeoutMs} ms${where}; output:\n${output().slice(-4_000)}`));
        }, timeoutMs);
        const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
          done();
          reject(
            new Error(
              `${app} exited with ${code ?? signal} before "${text}"${where}; output:\n${output().slice(-4_000)}`,
            ),
          );
        };
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
        if (isDone()) onExit(child.exitCode, child.signalCode);
      });
    },
    async stop(timeoutMs = 15_000) {
      if (isDone()) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
    async kill() {
      if (!isDone()) child.kill('SIGKILL');
      return exited;
    },
  };
}
