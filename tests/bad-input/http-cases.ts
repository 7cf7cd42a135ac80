import { signBody } from '@runflow-queue/runflow-sim';
import { expect } from 'vitest';
import {
  type BadCase,
  BODY_LIMIT,
  callback,
  callbackBody,
  freshRun,
  json,
  post,
  pro,
  replayed,
  SECRET,
  signed,
  TOKEN,
} from './harness.ts';

// Bad requests to the HTTP API and to callback-ingest (the bytes an attacker or a broken client sends).
export const HTTP_CASES: BadCase[] = [
  // The HTTP API (apps/api).
  {
    surface: 'api',
    name: 'malformed JSON',
    code: 'MALFORMED_JSON',
    status: 400,
    send: () => post('/v1/edits', '{"model": "google/nano-banana-pro/edit",'),
  },
  { surface: 'api', name: 'empty JSON body', code: 'MALFORMED_JSON', status: 400, send: () => post('/v1/edits', '') },
  {
    surface: 'api',
    name: '__proto__ key (refused by the JSON parser)',
    code: 'MALFORMED_JSON',
    status: 400,
    send: () => post('/v1/edits', `{"__proto__":{"polluted":true},"model":"google/nano-banana-pro/edit"}`),
  },
  {
    surface: 'api',
    name: 'constructor.prototype key (refused by the JSON parser)',
    code: 'MALFORMED_JSON',
    status: 400,
    send: () => post('/v1/edits', '{"constructor":{"prototype":{"polluted":true}}}'),
  },
  {
    surface: 'api',
    name: 'wrong content type (text/plain)',
    code: 'UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    send: () => post('/v1/edits', json(pro()), { 'content-type': 'text/plain' }),
  },
  {
    surface: 'api',
    name: 'body over the size limit',
    code: 'BODY_TOO_LARGE',
    status: 413,
    send: () => post('/v1/edits', json(pro({ prompt: 'x'.repeat(BODY_LIMIT + 10) }))),
  },
  {
    surface: 'api',
    name: 'no bearer token',
    code: 'API_UNAUTHENTICATED',
    status: 401,
    send: () => post('/v1/edits', json(pro()), { authorization: '' }),
  },
  {
    surface: 'api',
    name: 'wrong bearer token',
    code: 'API_UNAUTHENTICATED',
    status: 401,
    send: () => post('/v1/edits', json(pro()), { authorization: `Bearer ${TOKEN}x` }),
  },
  {
    surface: 'api',
    name: 'a JSON array',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => post('/v1/edits', json([pro()])),
  },
  {
    surface: 'api',
    name: '1 MB prompt',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => post('/v1/edits', json(pro({ prompt: 'x'.repeat(1_000_000) }))),
  },
  {
    surface: 'api',
    name: '3,000 image URLs',
    code: 'INVALID_INPUT',
    status: 422,
    send: () =>
      post(
        '/v1/edits',
        json(pro({ image_urls: Array.from({ length: 3_000 }, (_, i) => `https://c.example/${i}.png`) })),
      ),
  },
  {
    surface: 'api',
    name: 'unknown model',
    code: 'UNKNOWN_MODEL',
    status: 422,
    send: () => post('/v1/edits', json({ ...pro(), model: 'acme/unknown' })),
  },
  {
    surface: 'api',
    name: 'num_images 1.5',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => post('/v1/edits', json(pro({ num_images: 1.5 }))),
  },
  {
    surface: 'api',
    name: 'unknown queue',
    code: 'UNKNOWN_QUEUE',
    status: 404,
    send: () => post('/v1/edits', json({ ...pro(), queue: 'nope' })),
  },
  {
    surface: 'api',
    name: 'Idempotency-Key header differs from the body key',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => post('/v1/edits', json({ ...pro(), idempotencyKey: 'a' }), { 'idempotency-key': 'b' }),
  },
  {
    surface: 'api',
    name: 'batch with no items',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => post('/v1/edits:batch', json({ items: [] })),
  },
  {
    surface: 'api',
    name: 'batch with one bad item',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => post('/v1/edits:batch', json({ items: [pro(), pro({ image_urls: ['file:///x'] })] })),
  },

  // callback-ingest: signature first, then the body.
  {
    surface: 'ingest',
    name: 'missing signature',
    code: 'CALLBACK_SIGNATURE_MISSING',
    status: 401,
    send: () => callback(callbackBody(freshRun()), undefined),
  },
  {
    surface: 'ingest',
    name: 'empty signature',
    code: 'CALLBACK_SIGNATURE_MISSING',
    status: 401,
    send: () => callback(callbackBody(freshRun()), ''),
  },
  {
    surface: 'ingest',
    name: 'short signature',
    code: 'CALLBACK_SIGNATURE_INVALID',
    status: 401,
    send: () => callback(callbackBody(freshRun()), 'abc123'),
  },
  {
    surface: 'ingest',
    name: 'non-hex signature of the right length',
    code: 'CALLBACK_SIGNATURE_INVALID',
    status: 401,
    send: () => callback(callbackBody(freshRun()), 'z'.repeat(64)),
  },
  {
    surface: 'ingest',
    name: '"sha256=" prefixed signature',
    code: 'CALLBACK_SIGNATURE_INVALID',
    status: 401,
    send: () => {
      const body = callbackBody(freshRun());
      return callback(body, `sha256=${signBody(SECRET, body)}`);
    },
  },
  {
    surface: 'ingest',
    name: 'signature made with another secret',
    code: 'CALLBACK_SIGNATURE_INVALID',
    status: 401,
    send: () => {
      const body = callbackBody(freshRun());
      return callback(body, signBody('whsec_not_trusted_here', body));
    },
  },
  {
    surface: 'ingest',
    name: 'valid signature over a different body',
    code: 'CALLBACK_SIGNATURE_INVALID',
    status: 401,
    send: () =>
      callback(callbackBody(freshRun(), { status: 'succeeded' }), signBody(SECRET, callbackBody('another-run'))),
  },
  {
    surface: 'ingest',
    name: 'signed, malformed JSON',
    code: 'CALLBACK_MALFORMED_JSON',
    status: 400,
    send: () => signed('{"event": "run.completed", '),
  },
  {
    surface: 'ingest',
    name: 'signed, fails the schema (no run_id)',
    code: 'CALLBACK_PAYLOAD_INVALID',
    status: 400,
    send: () => signed(json({ event: 'run.completed', status: 'succeeded' })),
  },
  {
    surface: 'ingest',
    name: 'signed, a JSON array',
    code: 'CALLBACK_PAYLOAD_INVALID',
    status: 400,
    send: () => signed(json([callbackBody('x')])),
  },
  {
    surface: 'ingest',
    name: 'signed, status of the wrong type',
    code: 'CALLBACK_PAYLOAD_INVALID',
    status: 400,
    send: () => signed(callbackBody(freshRun(), { status: 200 })),
  },
  {
    surface: 'ingest',
    name: 'signed, run_id of 300 characters',
    code: 'CALLBACK_PAYLOAD_INVALID',
    status: 400,
    send: () => signed(callbackBody('r'.repeat(300))),
  },
  {
    surface: 'ingest',
    name: 'wrong content type (text/plain)',
    code: 'CALLBACK_UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    send: () => {
      const body = callbackBody(freshRun());
      return callback(body, signBody(SECRET, body), 'text/plain');
    },
  },
  {
    surface: 'ingest',
    name: 'body over the size limit',
    code: 'CALLBACK_BODY_TOO_LARGE',
    status: 413,
    send: () => signed(callbackBody(freshRun(), { output: { blob: 'x'.repeat(BODY_LIMIT + 10) } })),
  },
  {
    surface: 'ingest',
    name: 'replayed valid callback (same bytes again)',
    code: 'duplicate',
    status: 200,
    prepare: async () => void expect((await signed(replayed)).code).toBe('stored'),
    send: () => signed(replayed),
  },
  {
    surface: 'ingest',
    name: 'validly signed callback for an unknown run',
    code: 'unmatched',
    status: 202,
    send: () => signed(callbackBody(freshRun(), { metadata: null })),
  },
  {
    surface: 'ingest',
    name: 'validly signed, __proto__ in the metadata',
    code: 'unmatched',
    status: 202,
    send: () =>
      signed(callbackBody(freshRun(), { metadata: JSON.parse('{"__proto__":{"queue":"edits","jobId":"x"}}') })),
  },
];
