import { parseArgs } from 'node:util';

export interface DemoArgs {
  jobs: number;
  json: string | undefined;
  workers: number;
  timeoutMs: number;
  /** Stream every process's logs to the terminal through pino-pretty (they always go to files too). */
  logs: boolean;
  /** Also start the dashboard; after the run, check /spend against the ledger and keep it up until Ctrl-C. */
  dashboard: boolean;
}

const HELP = `pnpm demo [--jobs N] [--json PATH] [--workers N] [--timeout-s S] [--logs] [--dashboard]

Runs the whole pipeline on the Runflow simulator: a Redis (REDIS_URL, else a spawned redis-server),
the simulator, callback-ingest and worker processes; enqueues N edit jobs over two queues and both
models, shows progress, and prints completed/failed, end-to-end latency and spend (ledger vs the
simulator's billing). Exit code 0 only when no job was lost and the two totals match.

  --jobs N        jobs to enqueue (default 200)
  --json PATH     also write the summary as JSON
  --workers N     worker processes (default 2)
  --timeout-s S   give up waiting after S seconds (default 180)
  --logs          show the processes' logs, pretty-printed (pino-pretty), instead of only writing them to files
  --dashboard     also start the dashboard (Bull Board, /spend); at the end, compare /spend with the ledger
                  and keep it running until Ctrl-C`;

export function parseDemoArgs(argv: string[]): DemoArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      jobs: { type: 'string', default: '200' },
      json: { type: 'string' },
      workers: { type: 'string', default: '2' },
      'timeout-s': { type: 'string', default: '180' },
      logs: { type: 'boolean', default: false },
      dashboard: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const int = (name: string, raw: string, min: number, max: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      console.error(`--${name} ${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}`);
      process.exit(2);
    }
    return n;
  };
  return {
    jobs: int('jobs', values.jobs, 1, 100_000),
    json: values.json,
    workers: int('workers', values.workers, 1, 16),
    timeoutMs: int('timeout-s', values['timeout-s'], 1, 86_400) * 1000,
    logs: values.logs,
    dashboard: values.dashboard,
  };
}
