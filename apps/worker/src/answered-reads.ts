import { RunflowApiError, type RunflowClient } from '@runflow-queue/runflow-client';

// Evidence for telling a model's concurrency cap from the account's rate limit (inflight-limited-3.lua):
// Runflow answering a read — anything but a 429, or no answer at all — shows its rate limit lets
// requests through right now. Creates report their own answers (InflightCaps.created).

/** `client`, calling `answered` whenever Runflow answers one of its reads with anything but a 429. */
export function reportingAnsweredReads(client: RunflowClient, answered: () => void): RunflowClient {
  const report = async <T>(call: Promise<T>): Promise<T> => {
    try {
      const value = await call;
      answered();
      return value;
    } catch (error) {
      if (error instanceof RunflowApiError && error.status !== undefined && error.status !== 429) answered();
      throw error;
    }
  };
  return {
    createRun: (model, body, options) => client.createRun(model, body, options),
    getRun: (runId, options) => report(client.getRun(runId, options)),
    findRunsByClientRef: (clientRef, options) => report(client.findRunsByClientRef(clientRef, options)),
    listRuns: (window, options) => report(client.listRuns(window, options)),
    getBalance: (options) => report(client.getBalance(options)),
    checkHealth: (options) => report(client.checkHealth(options)),
    close: () => client.close(),
  };
}
