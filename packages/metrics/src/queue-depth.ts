import type { Gauge } from 'prom-client';
import { QUEUE_DEPTH_STATES, type QueueDepthState } from './metric-catalog.ts';

/** What a BullMQ Queue offers for depth (structural, so this package needs no bullmq). */
export interface JobCountsSource {
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
}

export type QueueDepth = Record<QueueDepthState, number>;

/** One Redis round trip: the counts `rfq_queue_jobs` exports, with BullMQ's `delayed` as `parked`. */
export async function readQueueDepth(queue: JobCountsSource): Promise<QueueDepth> {
  const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
  return {
    waiting: counts.waiting ?? 0,
    prioritized: counts.prioritized ?? 0,
    active: counts.active ?? 0,
    parked: counts.delayed ?? 0,
  };
}

export function setQueueDepth(gauge: Gauge<'queue' | 'state'>, queue: string, depth: QueueDepth): void {
  for (const state of QUEUE_DEPTH_STATES) gauge.set({ queue, state }, depth[state]);
}
