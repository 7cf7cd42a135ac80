import type { EditJobData, JobStep } from '@runflow-queue/shared';
import { ATTR, inSpan, jobTraceContext, recordError, recordSpan, SPAN, tracingActive } from '@runflow-queue/tracing';
import type { EditJob } from './park-job.ts';
import type { StepContext } from './step-context.ts';
import type { Transition } from './transition.ts';

// The worker's spans, one per step run (inside BullMQ's "process" span of the wake-up) and one per
// park. Tracing off: the steps run in the API's no-op spans and job data gets no park marks.

/** The span of each step: queued admits (budget, caps, the governor's slot), submitting POSTs, submitted finalizes. */
const STEP_SPAN: Record<JobStep, string> = {
  queued: SPAN.admit,
  submitting: SPAN.submit,
  submitted: SPAN.finalize,
};

/** Runs one step in its span; the span says what the step decided (its park reason, result or code). */
export function traceStep(ctx: StepContext, run: () => Promise<Transition>): Promise<Transition> {
  return inSpan(
    STEP_SPAN[ctx.data.step],
    { attributes: () => jobAttributes(ctx.deps.queue, ctx.jobId, ctx.data) },
    async (span) => {
      const transition = await run();
      if (!span.isRecording()) return transition;
      if (ctx.data.step === 'submitting' && !ctx.entered) span.setAttribute('rfq.resolvingAmbiguousSubmit', true);
      switch (transition.kind) {
        case 'next':
          span.setAttribute('rfq.nextStep', transition.data.step);
          if (transition.data.runId) span.setAttribute(ATTR.runId, transition.data.runId);
          break;
        case 'park':
          span.setAttribute(ATTR.parkReason, transition.reason);
          if (transition.data?.runId) span.setAttribute(ATTR.runId, transition.data.runId);
          break;
        case 'complete':
          span.setAttributes({
            [ATTR.runId]: transition.result.runId,
            [ATTR.costMicroUsd]: transition.result.costMicroUsd,
            [ATTR.completedBy]: transition.result.completedBy,
          });
          break;
        case 'fail':
          recordError(span, { code: transition.code, message: `${transition.code}: ${transition.message}` });
          break;
      }
      return transition;
    },
  );
}

export function jobAttributes(queue: string, jobId: string | undefined, data: EditJobData) {
  return {
    [ATTR.queue]: queue,
    [ATTR.jobId]: jobId ?? '',
    [ATTR.model]: data.model,
    ...(data.runId ? { [ATTR.runId]: data.runId } : {}),
    ...(data.clientRef ? { [ATTR.clientRef]: data.clientRef } : {}),
  };
}

/**
 * The data a park saves. With tracing on it also carries when and why the job parked, so the wake-up
 * — in whichever process — can report the park as a span; off, the data is exactly the transition's.
 */
export function withParkMark(
  data: EditJobData | undefined,
  current: EditJobData,
  mark: { at: number; wakeAt: number; reason: string },
): EditJobData | undefined {
  if (!tracingActive()) return data;
  return { ...(data ?? current), tracePark: mark };
}

/**
 * At a wake-up: the park that ended now, as a span in the job's trace (beside the wake-ups, under the
 * enqueue). `promoted`: woken before its time, by a callback or the worker's own inbox check.
 */
export function reportPark(job: EditJob, queue: string, data: EditJobData, now: number): void {
  const mark = data.tracePark;
  if (!mark || !tracingActive()) return;
  // The wake is when BullMQ made the job active again (its processedOn), just before this wake-up's span.
  const wokeAt = job.processedOn ?? now;
  recordSpan(SPAN.parked, {
    parent: jobTraceContext(job.opts.telemetry?.metadata),
    startTime: mark.at,
    endTime: Math.max(wokeAt, mark.at),
    attributes: () => ({
      ...jobAttributes(queue, job.id, data),
      [ATTR.parkReason]: mark.reason,
      'rfq.parkedUntil': mark.wakeAt,
      'rfq.wokeBy': wokeAt < mark.wakeAt ? 'promoted' : 'deadline',
    }),
  });
}
