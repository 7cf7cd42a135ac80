import { describe, expect, it } from 'vitest';
import {
  decodeDimension,
  decodeSpendRecord,
  encodeDimension,
  encodeSpendRecord,
  ledgerRowField,
  type SpendRecord,
  uuidV7TimeMs,
} from './spend-record.ts';

const record: SpendRecord = {
  runId: '01a23b17-6e08-7037-8f50-27b310f626b3',
  queue: 'catalog',
  jobId: 'idem-abc',
  model: 'google/nano-banana-2/edit',
  costCenter: 'growth',
  caller: '-',
  day: '2026-12-03',
  outcome: 'completed',
  images: 2,
  estimatedMicroUsd: 164_000,
  confirmedMicroUsd: 160_000,
  adjustmentMicroUsd: -4_000,
  path: 'callback',
  settledAtMs: 1_796_000_000_000,
  state: 'confirmed',
};

describe('spend record encoding', () => {
  it('round-trips a record, and an unconfirmed one keeps confirmed null', () => {
    expect(decodeSpendRecord(record.runId, encodeSpendRecord(record))).toEqual(record);
    const estimated = { ...record, confirmedMicroUsd: null, adjustmentMicroUsd: 0, state: 'estimated' as const };
    expect(decodeSpendRecord(record.runId, encodeSpendRecord(estimated))).toEqual(estimated);
  });

  it('encodes every dimension so that no value can add a field or pose as another row', () => {
    const values = [
      'cc1|spoof',
      'cc1',
      'cc1%7Cspoof',
      'a\nb',
      '-',
      '',
      'сс1',
      'cc1｜spoof',
      '%',
      'x|y|z|spendMicroUsd',
    ];
    const encoded = values.map(encodeDimension);
    for (const e of encoded) expect(e).toMatch(/^[A-Za-z0-9._:/%-]+$/);
    for (const e of encoded) expect(e).not.toContain('|');
    // Injective: different values, different encodings (only '' and unset both mean none).
    expect(new Set(encoded.filter((_, i) => values[i] !== '')).size).toBe(values.length - 1);
    expect(encodeDimension('-')).not.toBe(encodeDimension(undefined));
    for (const [i, value] of values.entries()) if (value !== '') expect(decodeDimension(encoded[i])).toBe(value);
    expect(encoded.length).toBe(values.length);
    expect(ledgerRowField({ ...record, costCenter: 'cc1|spoof' })).not.toBe(
      ledgerRowField({ ...record, costCenter: 'cc1' }),
    );
    expect(ledgerRowField({ ...record, costCenter: 'cc1|spoof' }).split('|')).toHaveLength(4);
  });

  it('refuses a record it cannot read, naming the run', () => {
    expect(() => decodeSpendRecord('run-1', '{"costMicroUsd":150000}')).toThrow(/run-1 cannot be read/);
    expect(() => decodeSpendRecord('run-1', encodeSpendRecord(record).replace('|c|2|', '|c|two|'))).toThrow(/images/);
  });

  it('reads the creation time of a UUIDv7 run id, and nothing from any other id', () => {
    expect(uuidV7TimeMs('01a23b17-6e08-7037-8f50-27b310f626b3')).toBe(0x01a23b176e08);
    expect(uuidV7TimeMs('run-1')).toBeUndefined();
    expect(uuidV7TimeMs('01a23b17-6e08-4037-8f50-27b310f626b3')).toBeUndefined();
  });
});
