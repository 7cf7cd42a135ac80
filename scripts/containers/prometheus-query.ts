// The stack's Prometheus over its HTTP API: instant queries, and waiting until a query says what the
// check expects (scrapes come every 15 s, so a fresh value takes up to two intervals).

interface QueryResponse {
  status: string;
  data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
  error?: string;
}

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export async function query(baseUrl: string, promql: string): Promise<Sample[]> {
  const response = await fetch(`${baseUrl}/api/v1/query?query=${encodeURIComponent(promql)}`, {
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as QueryResponse;
  if (body.status !== 'success' || !body.data)
    throw new Error(`Prometheus query ${promql}: ${body.error ?? response.status}`);
  return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

/** The single value of an aggregated query (undefined while the query has no result yet). */
export async function scalar(baseUrl: string, promql: string): Promise<number | undefined> {
  const samples = await query(baseUrl, promql);
  return samples.length === 0 ? undefined : samples.reduce((sum, s) => sum + s.value, 0);
}

/** Polls `promql` until `accept(value)` or the timeout; returns the last value either way. */
export async function waitFor(
  baseUrl: string,
  promql: string,
  accept: (value: number | undefined) => boolean,
  timeoutMs: number,
): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  let value: number | undefined;
  for (;;) {
    value = await scalar(baseUrl, promql).catch(() => undefined);
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}
