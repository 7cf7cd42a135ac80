import { createRunflowClient, isRunflowApiError, type RunflowClient } from '@runflow-queue/runflow-client';
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

Usage: runflow-queue retry-failed [--queue NAME] [--code CODE] [--limit N] [--dry-run] [--force]

  --code CODE      only jobs that failed with this code (e.g. RUNFLOW_RETRIES_EXHAUSTED, ATTEMPTS_EXHAUSTED)
  --limit N        look at no more than N failed jobs (default 1000)
  --dry-run        print what would be retried; change nothing
  --force          submit a new run for a job whose run Runflow cannot find (it may bill twice)
${CONNECTION_HELP(env)}

Nothing is paid twice. A job that has a run is looked up on Runflow first (RUNFLOW_API_KEY, and
RUNFLOW_BASE_URL, default https://api.runflow.io; one GET per such job): a run that succeeded is adopted
(the job completes with its outputs, settled once), a run still going is waited for, a run that ended
without outputs gets a new run, and a run Runflow cannot find is left alone unless --force. Without
RUNFLOW_API_KEY only jobs whose run is known to have ended (RUN_FAILED, RUN_CANCELLED) get a new run.
A job whose submit was ambiguous keeps its clientRef so the worker adopts that run. Skipped, with the
reason: invalid data (a retry fails the same way) and JOB_ABANDONED (the caller cancelled).`;

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
    force: { type: 'boolean', default: false },
  });
  if (values.help) {
    io.stdout.write(`${RETRY_FAILED_HELP(env)}\n`);
    return 0;
  }
  const producer = openProducer(values, env);
  const client = env.RUNFLOW_API_KEY
    ? createRunflowClient({ baseUrl: env.RUNFLOW_BASE_URL ?? 'https://api.runflow.io', apiKey: env.RUNFLOW_API_KEY })
    : undefined;
  try {
    const outcomes = await producer.retryFailed(values.queue, {
      code: values.code?.toUpperCase(),
      limit: intFlag('limit', values.limit, 1),
      dryRun: values['dry-run'],
      force: values.force,
      ...(client ? { lookUpRun: (runId: string) => lookUpRun(client, runId) } : {}),
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
    await Promise.all([producer.close(), client?.close()]);
  }
}

/** A run's status on Runflow, or undefined when Runflow answers 404 (no such run on this account). */
async function lookUpRun(client: RunflowClient, runId: string): Promise<{ status: string } | undefined> {
  try {
    return { status: (await client.getRun(runId)).status_code };
  } catch (error) {
    if (isRunflowApiError(error) && error.status === 404) return undefined;
    throw error;
  }
}
