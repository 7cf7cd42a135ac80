import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import PinoPretty from 'pino-pretty';

const APPS = {
  worker: fileURLToPath(new URL('../../worker/src/main.ts', import.meta.url)),
  'callback-ingest': fileURLToPath(new URL('../../callback-ingest/src/main.ts', import.meta.url)),
  dashboard: fileURLToPath(new URL('../../dashboard/src/main.ts', import.meta.url)),
};

/**
 * Starts one of our apps as a real process; its JSON logs go to `logFile`, and with `pretty` also to
 * this terminal through pino-pretty (one line per entry: time, level, app and pid, message, fields).
 */
export function spawnApp(
  app: keyof typeof APPS,
  env: Record<string, string>,
  logFile: string,
  options: { pretty?: boolean } = {},
): ChildProcess {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [APPS[app]], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  if (options.pretty) {
    // One pretty stream per process (JSON lines must not mix), all writing whole entries to our stdout.
    child.stdout?.pipe(
      PinoPretty({
        colorize: process.stdout.isTTY,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'hostname',
        singleLine: true,
        destination: process.stdout,
      }),
    );
    child.stderr?.pipe(process.stderr);
  }
  return child;
}

export async function stopApp(child: ChildProcess, timeoutMs = 15_000): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

export async function waitForHttp(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
