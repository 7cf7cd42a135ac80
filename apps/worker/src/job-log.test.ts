import type { EditJobData } from '@runflow-queue/shared';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { jobLogger, lazyJobLog } from './job-log.ts';

const data: EditJobData = {
  step: 'submitting',
  model: 'google/nano-banana-2/edit',
  input: { prompt: 'p', image_urls: ['https://example.com/a.png'] },
  enqueuedAt: 1,
  clientRef: 'rq_1',
};

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('lazy job log', () => {
  it('writes the same lines, with the same fields, as the job logger', () => {
    const eager = capture('info');
    const lazy = capture('info');
    jobLogger(eager.logger, 'edits', '7', data).info({ submitMs: 3 }, 'run submitted');
    lazyJobLog(lazy.logger, 'edits', '7', data).info({ submitMs: 3 }, 'run submitted');
    const strip = ({ time: _time, ...rest }: Record<string, unknown>) => rest;
    expect(lazy.lines.map(strip)).toEqual(eager.lines.map(strip));
    expect(lazy.lines[0]).toMatchObject({ queue: 'edits', jobId: '7', model: data.model, clientRef: 'rq_1' });
  });

  it('makes no child for a level that is off, and one for all the lines it writes', () => {
    const { logger, lines } = capture('info');
    let children = 0;
    const child = logger.child.bind(logger);
    logger.child = ((...args: Parameters<typeof child>) => {
      children += 1;
      return child(...args);
    }) as typeof logger.child;
    const log = lazyJobLog(logger, 'edits', '7', data);
    log.debug('parked');
    expect(children).toBe(0);
    log.info('one');
    log.warn('two');
    expect(children).toBe(1);
    expect(lines.map((line) => line.msg)).toEqual(['one', 'two']);
  });
});
