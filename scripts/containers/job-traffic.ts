import { getJson } from './stack-endpoints.ts';

// Edit jobs through the api container, both models, and their ends read back through it. A job is
// accounted for when the API says completed, or failed with a code; anything else at the deadline,
// or a job the API no longer knows, is lost.

export const MODELS = ['google/nano-banana-pro/edit', 'google/nano-banana-2/edit'] as const;

export interface Api {
  url: string;
  token: string;
  queue: string;
}

interface EditStatus {
  id: string;
  state: string;
  model: string;
  result?: { costMicroUsd: number };
  failure?: { code?: string; reason: string };
}

export interface JobOutcome {
  id: string;
  model: string;
  state: string;
  code?: string;
}

function editRequest(i: number, runTag: string) {
  const image_urls = [`https://picsum.example/photos/${i}.jpg`];
  const base = { idempotencyKey: `containers-${runTag}-${i}`, tags: { costCenter: 'containers-check' } };
  return i % 2 === 0
    ? { ...base, model: MODELS[0], input: { prompt: `studio light, item ${i}`, image_urls } }
    : { ...base, model: MODELS[1], input: { prompt: `thumbnail ${i}`, image_urls, num_images: 1 + (i % 3) } };
}

const headers = (api: Api) => ({ authorization: `Bearer ${api.token}`, 'content-type': 'application/json' });

export async function enqueue(api: Api, i: number, runTag: string): Promise<string> {
  const body = await getJson<{ id: string }>(`${api.url}/v1/edits`, {
    method: 'POST',
    headers: headers(api),
    body: JSON.stringify({ queue: api.queue, ...editRequest(i, runTag) }),
  });
  return body.id;
}

export async function readJob(api: Api, id: string): Promise<JobOutcome> {
  const response = await fetch(`${api.url}/v1/edits/${encodeURIComponent(id)}?queue=${api.queue}`, {
    headers: headers(api),
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status === 404) return { id, model: '?', state: 'not found' };
  if (!response.ok) throw new Error(`GET /v1/edits/${id}: ${response.status} ${await response.text()}`);
  const status = (await response.json()) as EditStatus;
  return { id, model: status.model, state: status.state, code: status.failure?.code };
}

const isFinal = (job: JobOutcome) => job.state === 'completed' || (job.state === 'failed' && Boolean(job.code));

/** Reads every job until each is final or the deadline passes; reports progress while it waits. */
export async function waitForJobs(
  api: Api,
  ids: string[],
  options: { timeoutMs: number; log: (line: string) => void },
): Promise<JobOutcome[]> {
  const deadline = Date.now() + options.timeoutMs;
  let outcomes: JobOutcome[] = [];
  let lastReport = 0;
  for (;;) {
    outcomes = await Promise.all(ids.map((id) => readJob(api, id)));
    const done = outcomes.filter(isFinal).length;
    if (done === ids.length || Date.now() > deadline) return outcomes;
    if (Date.now() - lastReport > 5_000) {
      options.log(`jobs: ${done}/${ids.length} finished`);
      lastReport = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

export function tally(outcomes: JobOutcome[]) {
  const completed = outcomes.filter((job) => job.state === 'completed').length;
  const failedWithCode = outcomes.filter((job) => job.state === 'failed' && job.code);
  const lost = outcomes.filter((job) => !isFinal(job));
  const byModel = Object.fromEntries(MODELS.map((model) => [model, outcomes.filter((j) => j.model === model).length]));
  const failureCodes: Record<string, number> = {};
  for (const job of failedWithCode) failureCodes[job.code!] = (failureCodes[job.code!] ?? 0) + 1;
  return { completed, failed: failedWithCode.length, lost: lost.length, lostJobs: lost, byModel, failureCodes };
}
