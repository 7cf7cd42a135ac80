import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';

// Output images the simulator serves at /outputs/{runId}/{index}.{ext}. They are real, decodable
// files so that code which downloads and inspects outputs is exercised for real. PNGs are generated
// (a solid colour derived from the run id, so different runs give different bytes); JPEG and WebP are
// fixed 8×8 files made with libjpeg-turbo's cjpeg and libwebp's cwebp (lossless VP8L).

export type OutputFormat = 'png' | 'jpeg' | 'webp';

export const OUTPUT_FORMATS: readonly OutputFormat[] = ['png', 'jpeg', 'webp'];

const CONTENT_TYPES: Record<OutputFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

/** Side of the generated PNG, in pixels. */
export const PNG_SIDE_PX = 32;

const JPEG_8X8 = Buffer.from(
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAUDBAQEAwUEBAQFBQUGBwwIBwcHBw8LCwkMEQ8SEhEPERETFhwXExQaFRERGCEYGh0dHx8fExciJCIeJBweHx7/' +
    '2wBDAQUFBQcGBw4ICA4eFBEUHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh7/wAARCAAIAAgDASIAAhEBAxEB/8QA' +
    'FQABAQAAAAAAAAAAAAAAAAAAAAb/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFQEBAQAAAAAAAAAAAAAAAAAABgf/xAAUEQEAAAAAAAAAAAAAAAAAAAAA/9oA' +
    'DAMBAAIRAxEAPwCPAWAJf//Z',
  'base64',
);

const WEBP_8X8 = Buffer.from('UklGRh4AAABXRUJQVlA4TBEAAAAvB8ABAAdQs86Uuf+BiOh/AAA=', 'base64');

export function isOutputFormat(value: unknown): value is OutputFormat {
  return value === 'png' || value === 'jpeg' || value === 'webp';
}

export function contentTypeFor(format: OutputFormat): string {
  return CONTENT_TYPES[format];
}

/** The bytes of output `index` of run `runId` in `format`. */
export function outputImage(runId: string, index: number, format: OutputFormat): Buffer {
  if (format === 'jpeg') return JPEG_8X8;
  if (format === 'webp') return WEBP_8X8;
  const digest = createHash('sha256').update(`${runId}/${index}`).digest();
  return solidPng(PNG_SIDE_PX, PNG_SIDE_PX, [digest[0], digest[1], digest[2]]);
}

/** A data URI of the same bytes, for `sync_mode: true` runs (outputs inline, not stored). */
export function outputDataUri(runId: string, index: number, format: OutputFormat): string {
  return `data:${contentTypeFor(format)};base64,${outputImage(runId, index, format).toString('base64')}`;
}

/** A truecolour (RGB, 8-bit) PNG of one colour. */
export function solidPng(widthPx: number, heightPx: number, rgb: readonly [number, number, number]): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(widthPx, 0);
  header.writeUInt32BE(heightPx, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: truecolour
  // bytes 10–12: compression 0, filter 0, interlace 0

  const rowBytes = 1 + widthPx * 3; // each scanline starts with filter type 0 (None)
  const raw = Buffer.alloc(rowBytes * heightPx);
  for (let y = 0; y < heightPx; y++) {
    for (let x = 0; x < widthPx; x++) {
      const at = y * rowBytes + 1 + x * 3;
      raw[at] = rgb[0];
      raw[at + 1] = rgb[1];
      raw[at + 2] = rgb[2];
    }
  }

  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  data.copy(chunk, 8);
  // The CRC covers the type and the data, not the length.
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) as PNG chunks require. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of bytes) crc = crcTable[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
