import { formatTable } from '@runflow-queue/shared';
import {
  CONNECTION_HELP,
  connectionOptions,
  type Env,
  intFlag,
  openProducer,
  parseCommandArgs,
} from './cli-context.ts';

export const RETRY_FAILED_HELP = (env: Env) => `runflow-queue retry-failed — retry the failed jobs of a queue

Usage: runflow-queue retry-failed [--queue NAME] [--code CODE] [--limit N] [--dry-run]

  --code CODE      only jobs that failed with this code (e.g. RUNFLOW_RETRIES_EXHAUSTED, INSUFFICIENT_CREDIT)
  --limit N        look at no more than N failed jobs (default 1000)
  --dry-run        print what would be retried; change nothing
${CONNECTION_HELP(env)}

A job whose run ended (RUN_FAILED, RUN_CANCELLED) gets a new run; a job whose submit was ambiguous keeps
its clientRef so the worker adopts that run instead of paying twice. Skipped, with the reason: invalid
data (a retry fails the same way), JOB_ABANDONED (the caller cancelled), RUN_DEADLINE_EXCEEDED (the run
may still finish and bill — look it up first).`;

export async function retryFailedCommand(
  args: string[],
  env: Env,
  io: { stdout: { write(chunk: string): boolean } },
): Promise<number> {
  const { values } = parseCommandArgs('retry-failed', args, {
    ...connectionOptions(env),
    code: { type: 'string' },
    limit: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
  });
  if (values.help) {
    io.stdout.write(`${RETRY_FAILED_HELP(env)}\n`);
    return 0;
  }
  const producer = openProducer(values, env);
  try {
    const outcomes = await producer.retryFailed(values.queue, {
      code: values.code?.toUpperCase(),
      limit: intFlag('limit', values.limit, 1),
      dryRun: values['dry-run'],
    });
    if (outcomes.length === 0) {
      io.stdout.write(
        `no failed jobs${values.code ? ` with code ${values.code.toUpperCase()}` : ''} in queue ${values.queue}\n`,
      );
      return 0;
    }
    io.stdout.write(
      `${formatTable(
        ['job', 'model', 'code', 'action', 'note'],
        outcomes.map((o) => [o.id, o.model, o.code ?? '-', o.action, o.note]),
      )}\n`,
    );
    const count = (action: string) => outcomes.filter((o) => o.action === action).length;
    io.stdout.write(
      `\n${values['dry-run'] ? `would retry ${count('would retry')}` : `retried ${count('retried')}`}, skipped ${count('skipped')}\n`,
    );
    return 0;
  } finally {
    await producer.close();
  }
}
