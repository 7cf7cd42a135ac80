import { parseTracingEnv, startTracing, type TracingConfig } from '@runflow-queue/tracing';
import { type Logger, pino } from 'pino';

// Start-up and shutdown of every process, in one place: parse the whole configuration once (bad
// config exits 78, EX_CONFIG, naming the variable), create the logger, start, and on SIGTERM/SIGINT
// close everything the app owns in reverse order of creation, within a grace period.

/** What a starting app gets: its logger, and the owner of everything long-lived it creates. */
export interface AppRuntime {
  logger: Logger;
  /**
   * Registers a long-lived thing (Redis client, Worker, Queue, HTTP server). On shutdown, owned
   * things are closed in reverse order of registration, each once, a failure logged and passed over.
   */
  own(name: string, close: () => Promise<unknown> | unknown): void;
}

export interface BootOptions<C> {
  /** The logger's `name` and the start of every lifecycle line. */
  name: string;
  /** Parses and validates the whole configuration; throws with a message naming each bad variable. */
  config: (source: Record<string, string | undefined>) => C;
  logLevel: (config: C) => string;
  /** pino redact paths (secrets, authorization headers). */
  redact?: readonly string[];
  /** Past this after SIGTERM the process exits 1, whatever is still closing (default 10 s). */
  graceMs?: (config: C) => number;
  /** Logged when shutdown begins. */
  stoppingMessage?: string;
  start: (config: C, runtime: AppRuntime) => Promise<void>;
  /**
   * OpenTelemetry (off unless the OTEL_* variables turn it on; service name `runflow-queue-<name>`).
   * `fastify: false` leaves fastify apps uninstrumented (callback-ingest traces its route by hand).
   */
  tracing?: { fastify?: boolean };
}

const EX_CONFIG = 78;

export async function bootApp<C>(options: BootOptions<C>): Promise<void> {
  let config: C | undefined;
  let tracingConfig: TracingConfig | undefined;
  // Both parsed before exiting, so one boot names every bad variable, the app's and OTEL_*.
  const problems: string[] = [];
  try {
    config = options.config(process.env);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  try {
    tracingConfig = parseTracingEnv(process.env, { app: options.name, serviceName: `runflow-queue-${options.name}` });
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  if (config === undefined || tracingConfig === undefined || problems.length > 0) {
    console.error(problems.join('\n'));
    process.exit(EX_CONFIG);
  }

  // Buffered, asynchronous writes (one synchronous write per line was ~20 % of a busy worker's CPU),
  // flushed at least every second so a quiet process's lines are not held back, and on exit.
  const destination = pino.destination({ sync: false, minLength: 4096 });
  setInterval(() => destination.flush(), 1_000).unref();
  const logger = pino(
    { level: options.logLevel(config), name: options.name, redact: [...(options.redact ?? [])] },
    destination,
  );
  const owned: { name: string; close: () => Promise<unknown> | unknown }[] = [];
  const graceMs = options.graceMs?.(config) ?? 10_000;

  let stopping = false;
  const shutdown = async (reason: string, exitCode: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal: reason }, options.stoppingMessage ?? 'shutting down');
    setTimeout(() => {
      logger.error({ graceMs }, 'shutdown grace period exceeded; exiting');
      destination.flushSync();
      process.exit(1);
    }, graceMs).unref();
    for (const thing of owned.reverse()) {
      try {
        await thing.close();
      } catch (error) {
        logger.warn({ err: error, closing: thing.name }, 'could not close cleanly');
      }
    }
    logger.info(`${options.name} stopped`);
    destination.flushSync();
    process.exit(exitCode);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGINT', () => void shutdown('SIGINT', 0));

  try {
    // Started before the app builds anything (instrumentations see every client and server it
    // creates) and owned first, so it is closed last: the spans of the shutdown itself are flushed.
    const tracing = await startTracing(tracingConfig, { logger, fastify: options.tracing?.fastify });
    if (tracing.enabled) owned.push({ name: 'tracing', close: () => tracing.shutdown() });
    await options.start(config, { logger, own: (name, close) => owned.push({ name, close }) });
  } catch (error) {
    logger.fatal({ err: error }, `${options.name} could not start`);
    await shutdown('start failed', 1);
  }
  destination.flush();
}
