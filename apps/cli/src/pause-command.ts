import { AccountHolds, createRedis } from '@runflow-queue/store';
import { ACCOUNT_HELP, accountKeyOf } from './account-key.ts';
import { CliError, CONNECTION_HELP, connectionOptions, type Env, parseCommandArgs } from './cli-context.ts';

export const PAUSE_HELP = (env: Env, command: 'pause' | 'resume') =>
  command === 'pause'
    ? `runflow-queue pause — stop new submits: the whole account's, or one queue's (--queue)

Usage: runflow-queue pause [--queue NAME] [--reason TEXT] [--by NAME]

Every worker honours it within a second and keeps it across restarts (it lives in Redis) until
runflow-queue resume. Runs already on Runflow still finish and settle; held jobs wait, using no attempt.

  --queue NAME     pause only this queue (default: every queue of the account)
  --reason TEXT    why, shown by runflow-queue health and the dashboard
  --by NAME        who (default: $USER)
${ACCOUNT_HELP}
${CONNECTION_HELP(env).replace(/ {2}--queue NAME.*\n/, '')}`
    : `runflow-queue resume — lift a pause made with runflow-queue pause

Usage: runflow-queue resume [--queue NAME]

  --queue NAME     resume this queue's pause (default: the account-wide pause)
${ACCOUNT_HELP}
${CONNECTION_HELP(env).replace(/ {2}--queue NAME.*\n/, '')}`;

export async function pauseCommand(
  command: 'pause' | 'resume',
  args: string[],
  env: Env,
  io: { stdout: { write(chunk: string): boolean } },
): Promise<number> {
  const { queue: _queue, ...connection } = connectionOptions(env);
  const { values } = parseCommandArgs(command, args, {
    ...connection,
    queue: { type: 'string' },
    reason: { type: 'string' },
    by: { type: 'string' },
    account: { type: 'string' },
  });
  if (values.help) {
    io.stdout.write(`${PAUSE_HELP(env, command)}\n`);
    return 0;
  }
  if (command === 'resume' && (values.reason !== undefined || values.by !== undefined)) {
    throw new CliError('resume takes no --reason or --by; see: runflow-queue resume --help');
  }
  const accountKey = accountKeyOf(values.account, env, command);
  const redis = createRedis(values.redis, { maxRetriesPerRequest: 1, connectTimeout: 3_000 });
  redis.on('error', () => {});
  const what = values.queue === undefined ? 'the whole account' : `queue ${values.queue}`;
  try {
    const holds = new AccountHolds(redis, { prefix: values.prefix, accountKey });
    if (command === 'pause') {
      const hold = await holds.pause(values.queue, values.reason ?? '', values.by ?? env.USER ?? 'cli');
      io.stdout.write(
        `paused new submits of ${what} at ${new Date(hold.since).toISOString()}${hold.reason ? ` (${hold.reason})` : ''}; in-flight runs still finish. Lift it with: runflow-queue resume${values.queue ? ` --queue ${values.queue}` : ''}\n`,
      );
      return 0;
    }
    const lifted = await holds.resume(values.queue);
    io.stdout.write(lifted ? `resumed submits of ${what}\n` : `${what} was not paused; nothing changed\n`);
    return 0;
  } catch (error) {
    throw new CliError(
      `could not ${command} ${what} in ${values.redis}: ${(error as Error).message}; check --redis`,
      1,
    );
  } finally {
    redis.disconnect();
  }
}
