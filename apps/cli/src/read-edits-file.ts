import { readFile } from 'node:fs/promises';
import type { CallerEditRequest } from '@runflow-queue/producer';
import { type FieldIssue, formatFieldIssues } from '@runflow-queue/shared';
import { CliError } from './cli-context.ts';

export interface EditLine {
  /** 1-based line number in the file. */
  line: number;
  request: CallerEditRequest;
}

export interface BadLine {
  line: number;
  problems: string[];
}

export interface EditsFile {
  valid: EditLine[];
  invalid: BadLine[];
}

/**
 * Reads a JSONL file of edit requests (one JSON object per line; blank lines are skipped) and
 * validates every line before anything is enqueued. `validate` is the producer's (same rules, same
 * notifyUrl policy); `keyPrefix` gives lines without an idempotencyKey the key `<prefix>:<line>`,
 * so running the same file twice never enqueues (or pays for) anything twice.
 */
export async function readEditsFile(
  path: string,
  validate: (request: unknown) => FieldIssue[],
  keyPrefix?: string,
): Promise<EditsFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(
      `--file ${JSON.stringify(path)}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  const valid: EditLine[] = [];
  const invalid: BadLine[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      invalid.push({
        line,
        problems: [`not valid JSON (${(error as Error).message}); each line must be one edit request object`],
      });
      return;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      invalid.push({ line, problems: ['must be a JSON object: {"model": …, "input": {…}}'] });
      return;
    }
    const request = (
      keyPrefix && (parsed as { idempotencyKey?: unknown }).idempotencyKey === undefined
        ? { ...parsed, idempotencyKey: `${keyPrefix}:${line}` }
        : parsed
    ) as CallerEditRequest;
    const issues = validate(request);
    if (issues.length > 0) invalid.push({ line, problems: formatFieldIssues(issues).split('\n') });
    else valid.push({ line, request });
  });
  return { valid, invalid };
}

/** "line 7: input.resolution: "8K" — Invalid option; allowed: 1K, 2K, 4K", one per problem. */
export function describeBadLines(invalid: readonly BadLine[], max = 50): string {
  const lines = invalid.slice(0, max).flatMap(({ line, problems }) => problems.map((p) => `  line ${line}: ${p}`));
  if (invalid.length > max) lines.push(`  … and ${invalid.length - max} more bad lines`);
  return lines.join('\n');
}
