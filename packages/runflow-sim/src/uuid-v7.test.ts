import { describe, expect, it } from 'vitest';
import { nameUuid, uuidV7, uuidV7Ms } from './uuid-v7.ts';

describe('uuidV7', () => {
  it('has version 7, the RFC variant, and the creation millisecond in its first 48 bits', () => {
    const at = Date.UTC(2026, 10, 22, 1, 2, 3, 456);
    const id = uuidV7(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidV7Ms(id)).toBe(at);
  });

  it('sorts in creation order even within one millisecond', () => {
    const at = Date.now() + 60_000;
    const ids = Array.from({ length: 5000 }, () => uuidV7(at));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});

describe('nameUuid', () => {
  it('is stable per name and differs between names', () => {
    expect(nameUuid('model:a')).toBe(nameUuid('model:a'));
    expect(nameUuid('model:a')).not.toBe(nameUuid('model:b'));
    expect(nameUuid('model:a')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
