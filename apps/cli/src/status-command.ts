import type { EditStatus } from '@runflow-queue/producer';
import { formatMicroUsd } from '@runflow-queue/shared';
import {
  CliError,
  CONNECTION_HELP,
  connectionOptions,
  type Env,
  openProducer,
  parseCommandArgs,
} from './cli-context.ts';

export const STATUS_HELP = (
  env: Env,
) => `runflow-queue status <id> — where one edit job is: state, step, run, result or failure

Usage: runflow-queue status <id> [--queue NAME] [--json]

  --json           print the status as JSON
${CONNECTION_HELP(env)}

Exit codes: 0 found; 1 no such job; 2 usage.`;

const iso = (ms: number | undefined) => (ms === undefined ? '-' : new Date(ms).toISOString());

/** The status as aligned "key  value" lines, with the result's URLs and their expiry. */
export function renderStatus(status: EditStatus): string {
  const rows: [string, string][] = [
    ['id', status.id],
    ['queue', status.queue],
    ['state', status.state],
    ['step', status.step ?? '-'],
    ['model', status.model],
    ['run', status.runId ?? '-'],
    ['enqueued', iso(status.enqueuedAt)],
    ['finished', iso(status.finishedAt)],
  ];
  if (status.priority !== undefined) rows.push(['priority', String(status.priority)]);
  if (status.tags?.costCenter) rows.push(['cost center', status.tags.costCenter]);
  if (status.tags?.labels) {
    rows.push([
      'labels',
      Object.entries(status.tags.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    ]);
  }
  if (status.notifyUrl) rows.push(['notify url', status.notifyUrl]);
  if (status.abandoned) rows.push(['abandoned', 'yes: the run finishes and is paid for; the job fails JOB_ABANDONED']);
  if (status.result) rows.push(...resultRows(status.result));
  if (status.failure) {
    rows.push(['failure code', status.failure.code ?? '-']);
    rows.push(['failure', status.failure.reason]);
  }
  const width = Math.max(...rows.map(([key]) => key.length));
  return rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n');
}

export function resultRows(result: NonNullable<EditStatus['result']>): [string, string][] {
  const rows: [string, string][] = [
    ['cost', `${formatMicroUsd(result.costMicroUsd)} (${result.costMicroUsd} µUSD)`],
    ['completed by', result.completedBy],
  ];
  for (const [index, output] of result.outputs.entries()) rows.push([`output ${index + 1}`, output.url]);
  if (result.outputsExpireAt !== undefined) {
    rows.push(['outputs expire', `${iso(result.outputsExpireAt)} — copy them before then`]);
  }
  return rows;
}

export async function statusCommand(
  args: string[],
  env: Env,
  io: { stdout: { write(chunk: string): boolean } },
): Promise<number> {
  const { values, positionals } = parseCommandArgs('status', args, {
    ...connectionOptions(env),
    json: { type: 'boolean', default: false },
  });
  if (values.help) {
    io.stdout.write(`${STATUS_HELP(env)}\n`);
    return 0;
  }
  const id = positionals[0];
  if (!id) throw new CliError('give the job id: runflow-queue status <id> [--queue NAME]');
  const producer = openProducer(values, env);
  try {
    const status = await producer.getEdit(values.queue, id);
    if (!status) {
      throw new CliError(
        `no job ${id} in queue ${values.queue}: check the id and --queue (removed jobs and jobs past their retention window are gone)`,
        1,
      );
    }
    io.stdout.write(`${values.json ? JSON.stringify(status, null, 2) : renderStatus(status)}\n`);
    return 0;
  } finally {
    await producer.close();
  }
}
