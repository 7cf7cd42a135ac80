import type { AppProcess } from '@runflow-queue/runtime';
import PinoPretty from 'pino-pretty';

/**
 * Also shows an app's JSON logs in this terminal through pino-pretty (one line per entry: time, level,
 * app and pid, message, fields). One pretty stream per process: JSON lines must not mix.
 */
export function showLogs(proc: AppProcess): AppProcess {
  proc.child.stdout?.pipe(
    PinoPretty({
      colorize: process.stdout.isTTY,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'hostname',
      singleLine: true,
      destination: process.stdout,
    }),
  );
  proc.child.stderr?.pipe(process.stderr);
  return proc;
}
