import { EditFailedError } from '@runflow-queue/producer';
import { RunflowQueueError } from '@runflow-queue/shared';
import {
  CliError,
  CONNECTION_HELP,
  connectionOptions,
  type Env,
  intFlag,
  openProducer,
  parseCommandArgs,
} from './cli-context.ts';
import { resultRows } from './status-command.ts';

export const WAIT_HELP = (env: Env) => `runflow-queue wait <id> — wait for one edit job and print its result

Usage: runflow-queue wait <id> [--timeout-s N] [--queue NAME] [--json]

  --timeout-s N    give up after N seconds (default 600)
  --json           print the result as JSON
${CONNECTION_HELP(env)}

Exit codes: 0 completed; 1 failed (the code is printed) or no such job; 2 usage; 124 still running at the timeout.`;

export async function waitCommand(
  args: string[],
  env: Env,
  io: { stdout: { write(chunk: string): boolean }; stderr: { write(chunk: string): boolean } },
): Promise<number> {
  const { values, positionals } = parseCommandArgs('wait', args, {
    ...connectionOptions(env),
    'timeout-s': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (values.help) {
    io.stdout.write(`${WAIT_HELP(env)}\n`);
    return 0;
  }
  const id = positionals[0];
  if (!id) throw new CliError('give the job id: runflow-queue wait <id> [--timeout-s N]');
  const timeoutS = intFlag('timeout-s', values['timeout-s'], 1) ?? 600;
  const producer = openProducer(values, env);
  try {
    const result = await producer.waitForResult(values.queue, id, { timeoutMs: timeoutS * 1000 });
    if (values.json) {
      io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      const rows: [string, string][] = [
        ['id', id],
        ['state', 'completed'],
        ['run', result.runId],
        ...resultRows(result),
      ];
      const width = Math.max(...rows.map(([key]) => key.length));
      io.stdout.write(`${rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n')}\n`);
    }
    return 0;
  } catch (error) {
    if (error instanceof EditFailedError) {
      io.stdout.write(
        values.json
          ? `${JSON.stringify({ id, state: 'failed', code: error.code, reason: error.message })}\n`
          : `job ${id} failed: ${error.message}\n`,
      );
      return 1;
    }
    if (error instanceof RunflowQueueError && error.code === 'WAIT_TIMEOUT') {
      io.stderr.write(
        `job ${id} is still running after ${timeoutS} s; wait again, or see: runflow-queue status ${id}\n`,
      );
      return 124;
    }
    if (error instanceof RunflowQueueError && error.code === 'JOB_NOT_FOUND') {
      throw new CliError(`${error.message}: check the id and --queue`, 1);
    }
    throw error;
  } finally {
    await producer.close();
  }
}
