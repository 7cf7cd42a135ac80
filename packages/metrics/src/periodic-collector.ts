/** A collection that runs now and then every `intervalMs`, never overlapping itself. */
export interface PeriodicCollector {
  /** Runs one collection now (waits for one in progress instead of starting a second). */
  refresh(): Promise<void>;
  /** Stops the timer and waits for a collection in progress. */
  stop(): Promise<void>;
}

/**
 * Keeps gauges that cost Redis round trips (queue depth, budgets, the governor's state) off the scrape
 * path: a scrape reads the last values. A failed collection calls `onError` and keeps the old values.
 */
export function startPeriodicCollector(options: {
  intervalMs: number;
  collect: () => Promise<void>;
  onError: (error: unknown) => void;
}): PeriodicCollector {
  let running: Promise<void> | undefined;
  let stopped = false;
  const refresh = (): Promise<void> => {
    running ??= options
      .collect()
      .catch(options.onError)
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => {
    if (!stopped) void refresh();
  }, options.intervalMs);
  timer.unref();
  void refresh();
  return {
    refresh,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
