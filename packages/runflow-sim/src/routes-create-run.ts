import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getModel, isModelId, type ModelId } from '@runflow-queue/shared';
import { rollFault, sendInjectedRateLimit, sendInjectedServerError } from './faults.ts';
import { type ErrorItem, isPlainObject, readRequestJson, sendError, sendRawJson } from './http-io.ts';
import { isOutputFormat } from './images.ts';
import { toRunObject } from './run-object.ts';
import { canonicalJson, type RunRecord } from './run-store.ts';
import type { SimContext } from './sim-context.ts';
import { nowMs } from './timestamps.ts';
import { uuidV7 } from './uuid-v7.ts';

// POST /v1/models/{owner}/{slug...}/runs. After auth and the rate limit (routes-v1.ts): injected
// faults → JSON → model → body validation (422) → idempotency → credit (402) → the model's concurrency
// cap (429 in reject mode) → create → 201 with the run object.

/** Runflow's documented limits on the envelope (runflow-api.md §2.1, §2.7). */
const MAX_CLIENT_REF_CHARS = 255;
const MAX_CALLBACK_URL_CHARS = 2048;

interface ValidBody {
  input: Record<string, unknown>;
  parsedInput: Record<string, unknown>;
  callbackUrl: string | null;
  metadata: Record<string, unknown> | null;
  clientRef: string | null;
}

export async function handleCreateRun(
  ctx: SimContext,
  request: IncomingMessage,
  response: ServerResponse,
  modelSegments: string[],
): Promise<void> {
  // The body is read before anything is answered so that keep-alive connections stay usable.
  const body = await readRequestJson(request, response);
  if (body === undefined) return;

  const { faults } = ctx.config;
  if (rollFault(faults, 'createServerError', ctx.counters)) return sendInjectedServerError(response);
  if (rollFault(faults, 'createRateLimited', ctx.counters)) return sendInjectedRateLimit(ctx, response);

  if (!isPlainObject(body.value)) {
    return sendError(response, 400, 'BAD_REQUEST', 'The request body must be a JSON object');
  }
  const modelPath = modelSegments.join('/');
  if (modelSegments.length < 2) {
    return sendError(
      response,
      405,
      'METHOD_NOT_ALLOWED',
      `"${modelPath}" is not a model path: use POST /v1/models/{owner}/{slug}/runs`,
    );
  }
  if (!isModelId(modelPath)) return sendError(response, 404, 'MODEL_NOT_FOUND', `Model ${modelPath} not found`);

  const validated = validateBody(modelPath, body.value);
  if (!validated.ok) {
    const first = validated.errors[0];
    return sendError(
      response,
      422,
      'VALIDATION_ERROR',
      `Validation failed: ${first.loc.join('.')}: ${first.msg}`,
      validated.errors,
    );
  }

  const idempotencyKey = headerValue(request.headers['idempotency-key']);
  const honoured = idempotencyKey !== null && ctx.config.idempotency === 'honour';
  const fingerprint = honoured ? `${modelPath}\n${canonicalJson(body.value)}` : '';
  if (honoured) {
    const earlier = ctx.store.findIdempotent(idempotencyKey);
    if (earlier && earlier.fingerprint !== fingerprint) {
      return sendError(response, 409, 'CONFLICT', 'Idempotency-Key was already used with a different request body');
    }
    if (earlier) {
      const replayed = ctx.store.get(earlier.runId);
      if (replayed) replayed.replays += 1;
      return answerCreated(ctx, request, response, earlier.responseBody, replayed);
    }
  }

  // After the idempotent replay (answering an existing run costs nothing), before a new run.
  if (ctx.billing.outOfCredit) {
    ctx.counters.insufficientCredit += 1;
    return sendError(
      response,
      402,
      'INSUFFICIENT_CREDIT',
      'Insufficient credit: top up your balance (see GET /v1/billing/balance)',
    );
  }

  // A cap, not a rate limit: the same envelope as the rate limit's 429, never a Retry-After (there is no
  // telling when a slot frees), whatever the rate-limit docs version.
  if (ctx.gate.rejects(modelPath)) {
    ctx.counters.capRejected += 1;
    return sendError(
      response,
      429,
      'RATE_LIMITED',
      `Concurrency limit reached: ${ctx.gate.capOf(modelPath)} runs of ${modelPath} in flight`,
    );
  }

  const run = createRun(ctx, modelPath, validated.body, idempotencyKey);
  const responseBody = JSON.stringify(toRunObject(run));
  if (honoured) ctx.store.rememberIdempotent(idempotencyKey, { fingerprint, runId: run.id, responseBody });
  answerCreated(ctx, request, response, responseBody, run);
}

function createRun(ctx: SimContext, model: ModelId, body: ValidBody, idempotencyKey: string | null): RunRecord {
  const createdAtMs = nowMs();
  const { parsedInput } = body;
  const run: RunRecord = {
    id: uuidV7(createdAtMs),
    model,
    input: body.input,
    outputFormat: isOutputFormat(parsedInput.output_format) ? parsedInput.output_format : 'png',
    images: typeof parsedInput.num_images === 'number' ? parsedInput.num_images : 1,
    callbackUrl: body.callbackUrl,
    metadata: body.metadata,
    clientRef: body.clientRef,
    requestId: randomUUID(),
    idempotencyKey,
    status: 'queued',
    createdAtMs,
    startedAtMs: null,
    completedAtMs: null,
    output: null,
    costMicroUsd: null,
    costBreakdown: null,
    failure: null,
    billed: false,
    deliveries: [],
    unanswered: 0,
    replays: 0,
    foundBySearch: 0,
    timer: null,
  };
  ctx.store.add(run);
  ctx.counters.runsCreated += 1;
  ctx.lifecycle.start(run);
  return run;
}

/** 201 — unless the resetAfterCreate fault fires: then the run exists and the client hears nothing. */
function answerCreated(
  ctx: SimContext,
  request: IncomingMessage,
  response: ServerResponse,
  json: string,
  run: RunRecord | undefined,
): void {
  if (rollFault(ctx.config.faults, 'resetAfterCreate', ctx.counters)) {
    if (run) run.unanswered += 1;
    request.socket.destroy();
    return;
  }
  sendRawJson(response, 201, json);
}

function validateBody(
  model: ModelId,
  body: Record<string, unknown>,
): { ok: true; body: ValidBody } | { ok: false; errors: ErrorItem[] } {
  const errors: ErrorItem[] = [];
  let parsedInput: Record<string, unknown> = {};
  const { input, callback_url: callbackUrl, metadata, client_ref: clientRef } = body;

  if (input === undefined) errors.push({ loc: ['input'], msg: 'Field required', type: 'missing' });
  else if (!isPlainObject(input)) errors.push({ loc: ['input'], msg: 'Input should be an object', type: 'type' });
  else {
    const result = getModel(model).inputSchema.safeParse(input);
    if (result.success) parsedInput = result.data as Record<string, unknown>;
    else {
      for (const issue of result.error.issues) {
        const loc = ['input', ...issue.path.map((key) => (typeof key === 'number' ? key : String(key)))];
        if (issue.code === 'unrecognized_keys') {
          for (const key of issue.keys)
            errors.push({ loc: [...loc, key], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' });
        } else {
          errors.push({ loc, msg: issue.message, type: issue.code });
        }
      }
    }
  }

  if (callbackUrl != null && !isHttpUrl(callbackUrl)) {
    errors.push({
      loc: ['callback_url'],
      msg: `must be an absolute http(s) URL of at most ${MAX_CALLBACK_URL_CHARS} characters`,
      type: 'url',
    });
  }
  if (metadata != null && !isPlainObject(metadata)) {
    errors.push({ loc: ['metadata'], msg: 'Input should be an object', type: 'type' });
  }
  if (clientRef != null && (typeof clientRef !== 'string' || clientRef.length > MAX_CLIENT_REF_CHARS)) {
    errors.push({
      loc: ['client_ref'],
      msg: `must be a string of at most ${MAX_CLIENT_REF_CHARS} characters`,
      type: 'string_too_long',
    });
  }

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    body: {
      input: input as Record<string, unknown>,
      parsedInput,
      callbackUrl: (callbackUrl as string | null | undefined) ?? null,
      metadata: (metadata as Record<string, unknown> | null | undefined) ?? null,
      clientRef: (clientRef as string | null | undefined) ?? null,
    },
  };
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > MAX_CALLBACK_URL_CHARS) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function headerValue(value: string | string[] | undefined): string | null {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? null : first;
}
