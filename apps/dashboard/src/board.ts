import { createBullBoard } from '@bull-board/api';
import { FastifyAdapter } from '@bull-board/fastify';
import type { EditProducer } from '@runflow-queue/producer';
import type { WorkloadsConfig } from '@runflow-queue/shared';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { EditQueueAdapter } from './edit-queue-adapter.ts';
import { jobDataSchema } from './job-data-schema.ts';

/** Where Bull Board lives; the spend page links here. */
export const BOARD_PATH = '/queues';

function describe(name: string, workloads: WorkloadsConfig | undefined): string {
  const workload = workloads?.queues.find((q) => q.name === name);
  if (!workload) return 'edit jobs (no workloads file: every model, no budget)';
  const budget = workload.budget;
  const caps = [
    budget?.dailyUsd !== undefined ? `$${budget.dailyUsd}/day` : undefined,
    budget?.monthlyUsd !== undefined ? `$${budget.monthlyUsd}/month` : undefined,
  ].filter(Boolean);
  return `${workload.models.join(', ')}${caps.length > 0 ? ` · budget ${caps.join(', ')} (${budget?.policy})` : ''}`;
}

/**
 * Bull Board over every queue, at BOARD_PATH: per-queue read-only mode, the Add Job form driven by the
 * JSON Schema of an edit request for the models the queue allows, step/run progress, redacted data and
 * results, and the per-queue throughput chart (the workers record BullMQ metrics).
 */
export function registerBoard(
  app: FastifyInstance,
  options: {
    queues: ReadonlyMap<string, Queue>;
    readOnly: (queue: string) => boolean;
    workloads?: WorkloadsConfig | undefined;
    producer?: EditProducer | undefined;
  },
): void {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: [...options.queues].map(
      ([name, queue]) =>
        new EditQueueAdapter(queue, {
          readOnlyMode: options.readOnly(name),
          producer: options.producer,
          description: describe(name, options.workloads),
          jobDataSchema: jobDataSchema(options.workloads?.queues.find((q) => q.name === name)?.models),
        }),
    ),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'runflow-queue',
        showMetrics: true,
        miscLinks: [{ text: 'Spend & throughput', url: '/spend' }],
        hideRedisDetails: false,
      },
    },
  });
  app.register(serverAdapter.registerPlugin(), { prefix: BOARD_PATH });
}
