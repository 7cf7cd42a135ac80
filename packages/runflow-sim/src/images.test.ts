import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, outputImage, PNG_SIDE_PX, solidPng } from './images.ts';

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});

describe('solidPng', () => {
  it('is a well-formed PNG: signature, IHDR, valid CRCs, IDAT that inflates to the pixels', () => {
    const png = solidPng(4, 3, [10, 20, 30]);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const chunks: { type: string; data: Buffer }[] = [];
    for (let at = 8; at < png.length; ) {
      const length = png.readUInt32BE(at);
      const type = png.toString('latin1', at + 4, at + 8);
      const data = png.subarray(at + 8, at + 8 + length);
      expect(png.readUInt32BE(at + 8 + length), `${type} CRC`).toBe(crc32(png.subarray(at + 4, at + 8 + length)));
      chunks.push({ type, data });
      at += 12 + length;
    }
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(chunks[0].data.readUInt32BE(0)).toBe(4);
    expect(chunks[0].data.readUInt32BE(4)).toBe(3);
    const raw = inflateSync(chunks[1].data);
    expect(raw.length).toBe(3 * (1 + 4 * 3));
    expect([...raw.subarray(0, 4)]).toEqual([0, 10, 20, 30]); // filter byte, then RGB
  });
});

describe('outputImage', () => {
  it('gives different PNG colours for different runs and fixed JPEG/WebP files', () => {
    const a = outputImage('run-a', 0, 'png');
    expect(a.readUInt32BE(16)).toBe(PNG_SIDE_PX);
    expect(a.equals(outputImage('run-b', 0, 'png'))).toBe(false);
    expect(a.equals(outputImage('run-a', 0, 'png'))).toBe(true);

    const jpeg = outputImage('run-a', 0, 'jpeg');
    expect([...jpeg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect([...jpeg.subarray(-2)]).toEqual([0xff, 0xd9]);
    const webp = outputImage('run-a', 0, 'webp');
    expect(webp.toString('latin1', 0, 4)).toBe('RIFF');
    expect(webp.readUInt32LE(4)).toBe(webp.length - 8); // RIFF size covers the rest of the file
    expect(webp.toString('latin1', 8, 16)).toBe('WEBPVP8L');
  });
});
