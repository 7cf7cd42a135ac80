import { readFileSync } from 'node:fs';
import { ERROR_CODES } from '@runflow-queue/shared';
import { describe, expect, it } from 'vitest';

// The README's "Error codes" table is what callers read: every code in ERROR_CODES is in it, with the
// status the apps really send, and it names no code the apps cannot send.

function readmeTable(): Map<string, string> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split('\n## Error codes')[1]?.split('\n## ')[0] ?? '';
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    if (cells.length < 4 || !cells[1]?.startsWith('`')) continue;
    for (const code of cells[1].matchAll(/`([A-Z][A-Z0-9_]*)`/g)) rows.set(code[1] as string, cells[2] ?? '');
  }
  return rows;
}

describe("README's error-code table", () => {
  const table = readmeTable();

  it('lists every code in ERROR_CODES with its HTTP status', () => {
    const missing = Object.keys(ERROR_CODES).filter((code) => !table.has(code));
    expect(missing, 'codes in ERROR_CODES that the README does not list').toEqual([]);
    const wrongStatus = Object.entries(ERROR_CODES)
      .filter(([code, { status }]) => /\d/.test(table.get(code) ?? '') && !table.get(code)?.includes(String(status)))
      .map(([code, { status }]) => `${code}: ${status} in ERROR_CODES, "${table.get(code)}" in the README`);
    expect(wrongStatus).toEqual([]);
  });

  it('lists no code that ERROR_CODES lacks', () => {
    expect([...table.keys()].filter((code) => !Object.hasOwn(ERROR_CODES, code))).toEqual([]);
  });
});
