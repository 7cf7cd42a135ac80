import { describe, expect, it } from 'vitest';
import { stepProgress } from './edit-queue-adapter.ts';

describe('stepProgress', () => {
  it('shows the step and the run of an edit job, with what the job reported itself', () => {
    expect(stepProgress({ step: 'queued', model: 'm' }, 0)).toEqual({ step: 'queued', runId: null });
    expect(
      stepProgress({ step: 'submitted', runId: 'run_1', clientRef: 'rq_1', submittedAt: 0, polls: 2 }, { pct: 50 }),
    ).toEqual({
      step: 'submitted',
      runId: 'run_1',
      clientRef: 'rq_1',
      submittedAt: '1970-01-01T00:00:00.000Z',
      polls: 2,
      pct: 50,
    });
  });

  it('leaves jobs that are not edit jobs alone', () => {
    expect(stepProgress({ other: true }, 42)).toBe(42);
    expect(stepProgress(null, 7)).toBe(7);
  });
});
