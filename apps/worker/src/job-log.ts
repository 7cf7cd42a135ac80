import type { EditJobData } from '@runflow-queue/shared';
import type { LogFn, Logger } from 'pino';

/** What a step logs through: the job's logger, or any pino logger (tests). */
export type JobLog = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** The job's logger: every line carries {queue, jobId, model, runId, clientRef}. Built from the
 * worker's logger each time (a child of a child would repeat the keys). */
export function jobLogger(logger: Logger, queue: string, jobId: string | undefined, data: EditJobData): Logger {
  return logger.child({ queue, jobId, model: data.model, runId: data.runId, clientRef: data.clientRef });
}

/**
 * The job's log for one wake-up, with the same lines and fields as `jobLogger`, but the pino child is
 * made at the first line written: most wake-ups write one line or none, and a child (its bindings
 * serialised and redacted) costs about what a line does. A level that is off makes no child at all.
 */
export function lazyJobLog(logger: Logger, queue: string, jobId: string | undefined, data: EditJobData): JobLog {
  let child: Logger | undefined;
  const at = (level: 'debug' | 'info' | 'warn' | 'error'): LogFn =>
    ((...args: Parameters<LogFn>) => {
      if (!logger.isLevelEnabled(level)) return;
      child ??= jobLogger(logger, queue, jobId, data);
      child[level](...args);
    }) as LogFn;
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
