import { createHash, randomBytes } from 'node:crypto';

// Runflow run ids are UUIDv7 (RFC 9562): 48-bit Unix ms timestamp, then random bits. Ids minted in
// the same millisecond stay sortable because the 12-bit rand_a field is used as a counter.

let lastMs = -1;
let sequence = 0;

/** A fresh UUIDv7 string; monotonic within this process even when many ids share a millisecond. */
export function uuidV7(nowMs: number = Date.now()): string {
  let ms = Math.floor(nowMs);
  if (ms <= lastMs) {
    ms = lastMs;
    sequence += 1;
    // 4096 ids in one millisecond: borrow the next millisecond rather than wrap (which would unsort).
    if (sequence > 0xfff) {
      ms += 1;
      sequence = 0;
    }
  } else {
    sequence = randomBytes(1)[0] & 0x7f; // random start, low enough to leave room for the counter
  }
  lastMs = ms;

  const bytes = randomBytes(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  return formatUuid(bytes);
}

/** A stable name-based UUID (version 5 layout over SHA-1), e.g. the fake `model_id` of a model slug. */
export function nameUuid(name: string): string {
  const bytes = createHash('sha1').update(`runflow-sim:${name}`).digest().subarray(0, 16);
  bytes[6] = 0x50 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  return formatUuid(bytes);
}

/** The 48-bit millisecond timestamp inside a UUIDv7. */
export function uuidV7Ms(uuid: string): number {
  return Number.parseInt(uuid.replaceAll('-', '').slice(0, 12), 16);
}

function formatUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
