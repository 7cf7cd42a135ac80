import { MAX_DELAY_MS } from '@runflow-queue/producer';
import { type BadCase, callbackBody, enqueue, freshRun, ingestCall, json, post, pro, signed } from './harness.ts';

// Bounds: nesting depth, delayMs, IPv4 embedded in IPv6 webhook targets, ledger names, and
// the codes the HTTP apps send for what no other code names — on every surface that takes them.

/** `[[[…]]]`, `depth` levels, as JSON text (JSON.stringify of it would itself overflow the stack). */
const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const deepBody = (depth: number) =>
  `{"model":"google/nano-banana-pro/edit","input":{"prompt":"x","image_urls":["https://cdn.example.com/in.png"]},"extra":${deepArray(depth)}}`;
const deepLabels = (depth: number) =>
  JSON.parse(`{"labels":{"a":${'{"b":'.repeat(depth)}"x"${'}'.repeat(depth)}}}`) as Record<string, unknown>;

/** Webhook targets that are loopback, private or metadata addresses written as IPv6. */
const EMBEDDED_TARGETS: [string, string][] = [
  ['IPv4-compatible ::127.0.0.1 (loopback)', 'https://[::127.0.0.1]/hook'],
  ['NAT64 64:ff9b::7f00:1 (127.0.0.1)', 'https://[64:ff9b::7f00:1]/hook'],
  ['NAT64 64:ff9b::10.0.0.5 (private)', 'https://[64:ff9b::10.0.0.5]/hook'],
  ['6to4 2002:a9fe:a9fe:: (169.254.169.254, cloud metadata)', 'https://[2002:a9fe:a9fe::1]/hook'],
  ['IPv4-mapped ::ffff:169.254.169.254 (cloud metadata)', 'https://[::ffff:169.254.169.254]/hook'],
  ['IPv4-translated ::ffff:0:10.1.2.3 (private)', 'https://[::ffff:0:a01:203]/hook'],
];

/**
 * Ledger names that would forge another spend-ledger row or break an export line: separators, a
 * newline, a NUL, and Unicode lookalikes of `|` and of Latin letters (a Cyrillic "сс1" reads as "cc1").
 */
export const FORGED_LEDGER_NAMES: [string, string][] = [
  ['"cc1|spoof" (the row separator)', 'cc1|spoof'],
  ['with a newline', 'cc1\nspoof'],
  ['with a NUL', 'cc1\u0000spoof'],
  ['with "｜" (fullwidth vertical line)', 'cc1\uFF5Cspoof'],
  ['"сс1" (Cyrillic lookalike of cc1)', '\u0441\u04411'],
];

export const BOUNDS_CASES: BadCase[] = [
  // Nesting depth.
  {
    surface: 'api',
    name: 'a 100,000-deep array in an unknown field',
    code: 'BODY_TOO_DEEP',
    status: 400,
    send: () => post('/v1/edits', deepBody(100_000)),
  },
  {
    surface: 'api',
    name: 'a 40-deep object in the labels',
    code: 'BODY_TOO_DEEP',
    status: 400,
    send: () => post('/v1/edits', json({ ...pro(), tags: deepLabels(40) })),
  },
  {
    surface: 'api',
    name: 'a batch item 100,000 deep',
    code: 'BODY_TOO_DEEP',
    status: 400,
    send: () => post('/v1/edits:batch', `{"items":[${deepBody(100_000)}]}`),
  },
  {
    surface: 'producer',
    name: 'a 100,000-deep array in an unknown field',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(JSON.parse(deepBody(100_000))),
  },
  {
    surface: 'ingest',
    name: 'signed, a 100,000-deep array in the output',
    code: 'BODY_TOO_DEEP',
    status: 400,
    send: () => signed(callbackBody(freshRun()).replace('"output":{', `"deep":${deepArray(100_000)},"output":{`)),
  },

  // delayMs.
  {
    surface: 'api',
    name: 'delayMs 9007199254740991 (the job would park forever)',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => post('/v1/edits', json({ ...pro(), delayMs: Number.MAX_SAFE_INTEGER })),
  },
  {
    surface: 'api',
    name: 'delayMs one past the maximum (7 days)',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => post('/v1/edits', json({ ...pro(), delayMs: MAX_DELAY_MS + 1 })),
  },
  {
    surface: 'api',
    name: 'batch delayMs 9007199254740991',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => post('/v1/edits:batch', json({ delayMs: Number.MAX_SAFE_INTEGER, items: [pro()] })),
  },
  {
    surface: 'producer',
    name: 'delayMs 9007199254740991',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro(), 'edits', { delayMs: Number.MAX_SAFE_INTEGER }),
  },
  {
    surface: 'producer',
    name: 'delayMs one past the maximum (7 days)',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro(), 'edits', { delayMs: MAX_DELAY_MS + 1 }),
  },

  // IPv4 embedded in IPv6: judged as the IPv4 address.
  ...EMBEDDED_TARGETS.map(
    ([name, notifyUrl]): BadCase => ({
      surface: 'api',
      name: `notifyUrl ${name}`,
      code: 'INVALID_INPUT',
      status: 422,
      send: () => post('/v1/edits', json({ ...pro(), notifyUrl })),
    }),
  ),
  ...EMBEDDED_TARGETS.slice(0, 4).map(
    ([name, notifyUrl]): BadCase => ({
      surface: 'producer',
      name: `notifyUrl ${name}`,
      code: 'INVALID_INPUT',
      status: 422,
      send: () => enqueue({ ...pro(), notifyUrl }),
    }),
  ),

  // Ledger names: a cost center or caller can only name its own row.
  ...FORGED_LEDGER_NAMES.flatMap(([label, value]): BadCase[] => [
    {
      surface: 'producer',
      name: `cost center ${label}`,
      code: 'INVALID_INPUT',
      status: 422,
      send: () => enqueue({ ...pro(), tags: { costCenter: value } }),
    },
    {
      surface: 'api',
      name: `cost center ${label}`,
      code: 'INVALID_INPUT',
      status: 422,
      send: () => post('/v1/edits', json({ ...pro(), tags: { costCenter: value } })),
    },
    {
      surface: 'producer',
      name: `caller ${label}`,
      code: 'INVALID_INPUT',
      status: 422,
      send: () => enqueue(pro(), 'edits', { caller: value }),
    },
  ]),
  {
    surface: 'api',
    name: 'cost center with "|" (would forge a ledger row)',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => post('/v1/edits', json({ ...pro(), tags: { costCenter: 'growth|2026-01-01|spendMicroUsd' } })),
  },
  {
    surface: 'api',
    name: 'cost center "-" (the ledger\'s "none")',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => post('/v1/edits', json({ ...pro(), tags: { costCenter: '-' } })),
  },
  {
    surface: 'producer',
    name: 'cost center with markup',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue({ ...pro(), tags: { costCenter: '<img src=x onerror=alert(1)>' } }),
  },
  {
    surface: 'producer',
    name: 'caller with "|" (would forge a ledger row)',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => enqueue(pro(), 'edits', { caller: 'a|b' }),
  },
  {
    surface: 'api',
    name: "caller field in the body (the caller is the token's)",
    code: 'INVALID_INPUT',
    status: 422,
    send: () => post('/v1/edits', json({ ...pro(), caller: 'search' })),
  },
  {
    surface: 'api',
    name: 'step and runId in the body',
    code: 'INVALID_INPUT',
    status: 422,
    send: () => post('/v1/edits', json({ ...pro(), step: 'submitted', runId: 'run-of-another-job' })),
  },

  // Codes for what no other code names.
  {
    surface: 'api',
    name: 'unknown route',
    code: 'NOT_FOUND',
    status: 404,
    send: () => post('/v1/nothing-here', json(pro())),
  },
  {
    surface: 'ingest',
    name: 'unknown route',
    code: 'NOT_FOUND',
    status: 404,
    send: () => ingestCall('POST', '/v1/callbacks/other'),
  },
  {
    surface: 'ingest',
    name: 'GET on the callback path',
    code: 'NOT_FOUND',
    status: 404,
    send: () => ingestCall('GET', '/v1/callbacks/runflow'),
  },
];
