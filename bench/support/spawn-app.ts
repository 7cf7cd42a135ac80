import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stopProcess, waitForHttp } from '@runflow-queue/testkit';

// Our apps as real processes (`node apps/<app>/src/main.ts`), as they run in production: the bench
// measures processes talking over sockets, not functions sharing an event loop.

const MAIN = {
  worker: fileURLToPath(new URL('../../apps/worker/src/main.ts', import.meta.url)),
  'callback-ingest': fileURLToPath(new URL('../../apps/callback-ingest/src/main.ts', import.meta.url)),
};

export type BenchApp = keyof typeof MAIN;

export interface AppProcess {
  app: BenchApp;
  child: ChildProcess;
  logFile: string;
}

/** Starts an app with exactly `env` (plus PATH); stdout and stderr go to `logFile`. */
export function spawnApp(app: BenchApp, env: Record<string, string>, logFile: string): AppProcess {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [MAIN[app]], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return { app, child, logFile };
}

/** Resolves when a line of the app's output contains `text`; rejects if it exits or times out first. */
export function waitForOutput(proc: AppProcess, text: string, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(
      () => done(new Error(`${proc.app}: no "${text}" within ${timeoutMs} ms (${proc.logFile})`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      buffered = (buffered + chunk.toString()).slice(-64_000);
      if (buffered.includes(text)) done();
    };
    const onExit = (code: number | null) => done(new Error(`${proc.app} exited with ${code} (${proc.logFile})`));
    const done = (error?: Error) => {
      clearTimeout(timer);
      proc.child.stdout?.off('data', onData);
      proc.child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    };
    proc.child.stdout?.on('data', onData);
    proc.child.once('exit', onExit);
  });
}

export { waitForHttp };

/** SIGTERM, then SIGKILL after `timeoutMs`; resolves with the exit code. */
export function stopApp(proc: AppProcess, timeoutMs = 15_000): Promise<number | null> {
  return stopProcess(proc.child, timeoutMs);
}
