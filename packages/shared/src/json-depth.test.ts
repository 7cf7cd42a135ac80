import { describe, expect, it } from 'vitest';
import { parseEditRequest } from './edit-request.ts';
import { jsonDepth, MAX_BODY_DEPTH, tooDeep } from './json-depth.ts';

describe('jsonDepth', () => {
  it('counts nesting without recursion and stops past the limit', () => {
    expect(jsonDepth('x')).toBe(0);
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth({ a: [1, { b: [] }] })).toBe(4);
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(jsonDepth(deep)).toBe(MAX_BODY_DEPTH + 1);
    expect(tooDeep(deep)).toBe(true);
    expect(tooDeep(JSON.parse(`${'['.repeat(MAX_BODY_DEPTH)}${']'.repeat(MAX_BODY_DEPTH)}`))).toBe(false);
  });

  it('turns a 100,000-deep request into a field issue, not a stack overflow', () => {
    const request = JSON.parse(
      `{"model":"google/nano-banana-pro/edit","input":{"prompt":"x","image_urls":["https://c.example/a.png"]},"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
    );
    expect(() => parseEditRequest(request)).toThrow(/nests deeper than 32 levels/);
  });
});
