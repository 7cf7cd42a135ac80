import type { EditProducer, EditStatus } from '@runflow-queue/producer';

export interface WaitOutcome {
  finished: EditStatus[];
  /** Ids still running when the timeout came, or gone (removed, expired). */
  unfinished: string[];
}

/** States after which a job changes no more. */
const FINAL = new Set(['completed', 'failed']);

/**
 * Waits for many jobs by looking at them in rounds (not one listener per job): each round reads the
 * state of every unfinished job, in parallel slices, then sleeps `intervalMs`. Cheap enough for
 * thousands of jobs, and it cannot miss an event.
 */
export async function waitForJobs(
  producer: EditProducer,
  queue: string,
  ids: readonly string[],
  options: { timeoutMs: number; intervalMs?: number; onProgress?: (finished: number) => void },
): Promise<WaitOutcome> {
  const deadline = Date.now() + options.timeoutMs;
  const intervalMs = options.intervalMs ?? (ids.length > 1000 ? 3_000 : 1_000);
  let pending = [...new Set(ids)];
  const finished: EditStatus[] = [];
  const gone: string[] = [];
  for (;;) {
    const still: string[] = [];
    for (let start = 0; start < pending.length; start += 200) {
      const slice = pending.slice(start, start + 200);
      const statuses = await Promise.all(slice.map((id) => producer.getEdit(queue, id)));
      statuses.forEach((status, index) => {
        if (!status) gone.push(slice[index]);
        else if (FINAL.has(status.state)) finished.push(status);
        else still.push(slice[index]);
      });
    }
    pending = still;
    options.onProgress?.(finished.length);
    if (pending.length === 0 || Date.now() >= deadline) return { finished, unfinished: [...pending, ...gone] };
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
}
