import { CliError, type Env } from './cli-context.ts';

/** The Runflow account the holds belong to: --account, else the workers' RATE_LIMIT_KEY / RUNFLOW_API_KEY. */
export function accountKeyOf(flag: string | undefined, env: Env, command: string): string {
  const key = flag ?? env.RATE_LIMIT_KEY ?? env.RUNFLOW_API_KEY;
  if (!key) {
    throw new CliError(
      `${command} needs the Runflow account the workers use: set RATE_LIMIT_KEY or RUNFLOW_API_KEY as the workers have them, or pass --account KEY`,
    );
  }
  return key;
}

export const ACCOUNT_HELP = `  --account KEY    the workers' RATE_LIMIT_KEY or RUNFLOW_API_KEY (default: $RATE_LIMIT_KEY, else $RUNFLOW_API_KEY; only its hash is used)`;
