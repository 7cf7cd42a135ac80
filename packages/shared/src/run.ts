import { z } from 'zod';

// Runflow's run object, callback payload and output shapes. Every documented variant is accepted:
// runs are parsed loosely (unknown fields pass through) because Runflow adds fields over time.

// Statuses: queued, dispatching, running, then one of the terminal ones below; `status_code` stays a
// string so a status Runflow adds later passes through (and is treated as not terminal).
const TERMINAL: ReadonlySet<string> = new Set(['succeeded', 'partial_succeeded', 'failed', 'canceled', 'cancelled']);

export function isTerminalStatus(status: string): boolean {
  return TERMINAL.has(status);
}

/** succeeded and partial_succeeded deliver outputs; failed and both cancel spellings do not. */
export function isSuccessStatus(status: string): boolean {
  return status === 'succeeded' || status === 'partial_succeeded';
}

export const RunOutputItem = z.looseObject({
  url: z.string(),
  type: z.string().optional(),
});
export type RunOutputItem = z.infer<typeof RunOutputItem>;

export const Run = z.looseObject({
  id: z.string().min(1),
  status_code: z.string(),
  input: z.unknown().optional(),
  output: z.unknown().optional(),
  cost: z.union([z.string(), z.number()]).nullish(),
  duration_ms: z.number().nullish(),
  client_ref: z.string().nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  callback_url: z.string().nullish(),
  created_at: z.string().nullish(),
  started_at: z.string().nullish(),
  completed_at: z.string().nullish(),
  failure_code: z.string().nullish(),
  failure_message: z.string().nullish(),
  failure_stage_code: z.string().nullish(),
  failure_stage: z.string().nullish(),
});
export type Run = z.infer<typeof Run>;

export const CallbackPayload = z.looseObject({
  event: z.string(),
  run_id: z.string().min(1).max(128),
  status: z.string(),
  output: z.unknown().optional(),
  duration_ms: z.number().nullish(),
  created_at: z.string().nullish(),
  completed_at: z.string().nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  cost: z.union([z.string(), z.number()]).nullish(),
});
export type CallbackPayload = z.infer<typeof CallbackPayload>;

/** The metadata we attach to every run; Runflow echoes it verbatim in callbacks. */
export const RunMetadata = z.object({
  queue: z.string().min(1),
  jobId: z.string().min(1),
  clientRef: z.string().min(1),
});
export type RunMetadata = z.infer<typeof RunMetadata>;

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * The delivered artifacts of an output, whatever shape it came in: `{outputs:[{url,type}]}` (runs),
 * `{image_urls:[...]}` (callback examples), `{image:{url}}`, `{url}` or `{output_url}` (SDK extractor).
 */
export function extractOutputs(output: unknown): RunOutputItem[] {
  const record = asRecord(output);
  if (!record) return [];
  if (Array.isArray(record.outputs)) {
    return record.outputs.flatMap((item) => {
      const parsed = RunOutputItem.safeParse(item);
      return parsed.success ? [parsed.data] : [];
    });
  }
  if (Array.isArray(record.image_urls)) {
    return record.image_urls.filter((url) => typeof url === 'string').map((url) => ({ url, type: 'image' }));
  }
  const image = asRecord(record.image);
  if (typeof image?.url === 'string') return [{ url: image.url, type: 'image' }];
  if (typeof record.url === 'string') return [{ url: record.url, type: 'image' }];
  if (typeof record.output_url === 'string') return [{ url: record.output_url, type: 'image' }];
  return [];
}

/** Runflow's error: `{code,message,errors}`, `{error:{code,message}}`, or `{detail}`. */
export interface RunflowErrorBody {
  code: string | undefined;
  message: string | undefined;
  errors: unknown;
}

export function parseErrorEnvelope(body: unknown): RunflowErrorBody {
  const record = asRecord(body) ?? {};
  const nested = asRecord(record.error);
  const code = record.code ?? nested?.code;
  const detail = record.detail;
  const message =
    record.message ??
    nested?.message ??
    (typeof detail === 'string' ? detail : detail === undefined ? undefined : JSON.stringify(detail));
  return {
    code: typeof code === 'string' ? code : undefined,
    message: typeof message === 'string' ? message : undefined,
    errors: record.errors ?? (Array.isArray(detail) ? detail : undefined),
  };
}

/** The failure of a failed run, from the run object or the error envelope in a callback's `output`. */
export function runFailure(source: { failure_code?: unknown; failure_message?: unknown; output?: unknown }): {
  code: string;
  message: string;
} {
  const envelope = parseErrorEnvelope(source.output);
  const code = typeof source.failure_code === 'string' ? source.failure_code : envelope.code;
  const message = typeof source.failure_message === 'string' ? source.failure_message : envelope.message;
  return { code: code ?? 'RUN_FAILED', message: message ?? 'the run failed without a message' };
}
