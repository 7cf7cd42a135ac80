import { describe, expect, it } from 'vitest';
import { createProgress } from './progress.ts';

function stream(isTTY: boolean) {
  const chunks: string[] = [];
  return { isTTY, chunks, write: (chunk: string) => chunks.push(chunk) > 0 };
}

describe('progress', () => {
  it('redraws a bar in place on a terminal', () => {
    const out = stream(true);
    const progress = createProgress('enqueued', 4, out);
    progress.update(1);
    progress.update(2);
    progress.finish(4);
    expect(out.chunks[0]).toMatch(/^\renqueued \[█{8}░{22}\] 1\/4 {2}25%$/);
    expect(out.chunks.at(-2)).toContain('4/4 100%');
    expect(out.chunks.at(-1)).toBe('\n');
  });

  it('prints plain lines elsewhere: on change at most once per interval, and the final state once', () => {
    const out = stream(false);
    const progress = createProgress('finished', 100, out, 60_000);
    progress.update(0);
    progress.update(10);
    progress.update(50);
    progress.finish(100);
    expect(out.chunks).toEqual(['finished: 0/100 (0%)\n', 'finished: 100/100 (100%)\n']);
  });
});
