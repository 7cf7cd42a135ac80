// One settled run's spend record, as finance exports it, and the one encoding of every ledger
// dimension. A record is one string in the per-day hash of runs (see keys.ts `spendKeys`), `|`
// between fields; every text field is percent-encoded so that no value (a `|`, a newline, a `%`,
// anything outside [A-Za-z0-9._:/-]) can add a field, forge another ledger row or break a CSV line.
// The encoding is a bijection: `cc1|spoof` becomes `cc1%7Cspoof`, a row of its own, never a `cc1` row.

/** Where a run's settlement came from. `healed`: the reconciler booked a run Runflow billed and the ledger lacked. */
export type SpendPath = 'callback' | 'poll' | 'orphan' | 'waste' | 'healed';
export const SPEND_PATHS: readonly SpendPath[] = ['callback', 'poll', 'orphan', 'waste', 'healed'];

/**
 * `estimated`: booked from our price table, waiting for Runflow's record. `confirmed`: Runflow's own
 * `cost` is booked (at settle, or by the reconciler with the difference as an adjustment).
 * `table`: Runflow's record of the run carries no cost for this model, so the price table stands.
 */
export type SpendState = 'estimated' | 'confirmed' | 'table';

export interface SpendRecord {
  runId: string;
  queue: string;
  jobId: string;
  model: string;
  /** `-` when the job had none. */
  costCenter: string;
  /** `-` when the job had none. */
  caller: string;
  /** UTC day the run billed (its terminal state), YYYY-MM-DD: the ledger row's day. */
  day: string;
  outcome: 'completed' | 'failed' | 'waste';
  images: number;
  /** What our price table says the run cost (surcharges included), µUSD. */
  estimatedMicroUsd: number;
  /** Runflow's own cost, µUSD; null until confirmed (or when Runflow records none). */
  confirmedMicroUsd: number | null;
  /** Booked after the settlement, µUSD: confirmed − estimated once the reconciler confirmed it. */
  adjustmentMicroUsd: number;
  path: SpendPath;
  settledAtMs: number;
  state: SpendState;
}

/** What the run costs in the ledger now: Runflow's cost when confirmed, else the estimate. */
export function bookedMicroUsd(record: SpendRecord): number {
  return record.confirmedMicroUsd ?? record.estimatedMicroUsd;
}

/** `-` stands for "none"; a literal `-` is encoded, so it cannot pose as none. */
export const NO_DIMENSION = '-';

/** A dimension that encodes to itself: every character in [A-Za-z0-9._:/-]. */
const PLAIN_DIMENSION = /^[A-Za-z0-9._:/-]+$/;

/**
 * Percent-encodes every UTF-8 byte outside [A-Za-z0-9._:/-] (so `|`, `%`, `,`, quotes, spaces, control
 * characters and all non-ASCII), and a lone `-`; empty → `-`. Model ids (`google/nano-banana-2/edit`)
 * and the names the producer accepts pass unchanged.
 */
export function encodeDimension(value: string | undefined): string {
  if (value === undefined || value === '') return NO_DIMENSION;
  if (value === NO_DIMENSION) return '%2D';
  // The usual case (model ids, queue and caller names) has nothing to encode: no per-byte pass.
  if (PLAIN_DIMENSION.test(value)) return value;
  let out = '';
  for (const byte of new TextEncoder().encode(value)) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9._:/-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeDimension(encoded: string): string {
  if (encoded === NO_DIMENSION) return NO_DIMENSION;
  return decodeURIComponent(encoded);
}

const STATE_CODE: Record<SpendState, string> = { estimated: 'e', confirmed: 'c', table: 't' };
const CODE_STATE: Record<string, SpendState> = { e: 'estimated', c: 'confirmed', t: 'table' };
const OUTCOME_CODE = { completed: 'c', failed: 'f', waste: 'w' } as const;
const CODE_OUTCOME: Record<string, SpendRecord['outcome']> = { c: 'completed', f: 'failed', w: 'waste' };
const VERSION = '1';

/**
 * `1|queue|jobId|model|costCenter|caller|day|outcome|images|estimated|confirmed|adjustment|path|settledAt|state`
 * (the run id is the hash field). About 120–160 bytes for typical names.
 */
export function encodeSpendRecord(record: SpendRecord): string {
  return [
    VERSION,
    encodeDimension(record.queue),
    encodeDimension(record.jobId),
    encodeDimension(record.model),
    encodeDimension(record.costCenter === NO_DIMENSION ? undefined : record.costCenter),
    encodeDimension(record.caller === NO_DIMENSION ? undefined : record.caller),
    record.day,
    OUTCOME_CODE[record.outcome],
    String(record.images),
    String(record.estimatedMicroUsd),
    record.confirmedMicroUsd === null ? '' : String(record.confirmedMicroUsd),
    String(record.adjustmentMicroUsd),
    record.path,
    String(record.settledAtMs),
    STATE_CODE[record.state],
  ].join('|');
}

/** Throws on a record it cannot read: a settle marker that cannot be read is never trusted. */
export function decodeSpendRecord(runId: string, encoded: string): SpendRecord {
  const parts = encoded.split('|');
  const fail = (why: string) => new Error(`spend record of run ${runId} cannot be read (${why}): "${encoded}"`);
  if (parts.length !== 15 || parts[0] !== VERSION) throw fail(`expected 15 fields of version ${VERSION}`);
  const [, queue, jobId, model, costCenter, caller, day, outcome, images, est, conf, adj, path, at, state] = parts;
  const number = (text: string, name: string) => {
    if (!/^-?\d+$/.test(text)) throw fail(`${name} is not an integer`);
    return Number(text);
  };
  const decodedOutcome = CODE_OUTCOME[outcome];
  const decodedState = CODE_STATE[state];
  if (!decodedOutcome) throw fail(`unknown outcome ${outcome}`);
  if (!decodedState) throw fail(`unknown state ${state}`);
  if (!SPEND_PATHS.includes(path as SpendPath)) throw fail(`unknown path ${path}`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw fail('day is not YYYY-MM-DD');
  return {
    runId,
    queue: decodeDimension(queue),
    jobId: decodeDimension(jobId),
    model: decodeDimension(model),
    costCenter: decodeDimension(costCenter),
    caller: decodeDimension(caller),
    day,
    outcome: decodedOutcome,
    images: number(images, 'images'),
    estimatedMicroUsd: number(est, 'estimated'),
    confirmedMicroUsd: conf === '' ? null : number(conf, 'confirmed'),
    adjustmentMicroUsd: number(adj, 'adjustment'),
    path: path as SpendPath,
    settledAtMs: number(at, 'settledAt'),
    state: decodedState,
  };
}

/** The ledger row a record books into: `day|model|costCenter|caller`, each part encoded. */
export function ledgerRowField(record: Pick<SpendRecord, 'day' | 'model' | 'costCenter' | 'caller'>): string {
  const part = (value: string) => encodeDimension(value === NO_DIMENSION ? undefined : value);
  return [record.day, part(record.model), part(record.costCenter), part(record.caller)].join('|');
}

/** Creation time (ms) of a UUIDv7 run id, or undefined for any other id. */
export function uuidV7TimeMs(runId: string): number | undefined {
  const match = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.exec(runId);
  if (!match) return undefined;
  return Number.parseInt(match[1] + match[2], 16);
}
