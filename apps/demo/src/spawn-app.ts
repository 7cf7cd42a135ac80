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
