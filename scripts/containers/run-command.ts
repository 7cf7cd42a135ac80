import { spawn } from 'node:child_process';

// One way to run a host command for the container check: output captured, or streamed when it is long
// work a person watches (debootstrap, a build); an error names the command, its exit and its last lines.

export interface RunOptions {
  /** Written to the command's stdin, then closed (a tar stream, a config file). */
  input?: string | NodeJS.ReadableStream;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Kill the command after this long; the error says so. Default: no limit. */
  timeoutMs?: number;
  /** Each stderr/stdout line is passed here as it arrives (progress for long steps). */
  onLine?: (line: string) => void;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export class CommandError extends Error {
  readonly result: RunResult;
  constructor(command: string, result: RunResult, hint?: string) {
    const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-12).join('\n  ');
    super(`\`${command}\` exited ${result.code}${tail ? `:\n  ${tail}` : ''}${hint ? `\n  → ${hint}` : ''}`);
    this.name = 'CommandError';
    this.result = result;
  }
}

export function displayCommand(command: string, args: readonly string[]): string {
  return [command, ...args].map((part) => (/^[\w./:=@,+-]+$/.test(part) ? part : JSON.stringify(part))).join(' ');
}

/** Runs a command; resolves with its output and exit code whatever the code (see `mustRun`). */
export function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let partial = '';
    const forward = (chunk: string) => {
      if (!options.onLine) return;
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) options.onLine(line);
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      forward(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      forward(chunk);
    });
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        error.code === 'ENOENT'
          ? new Error(`\`${command}\` is not installed (not on PATH); see docs/production.md, "Containers with podman"`)
          : error,
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) stderr += `\n(killed after ${options.timeoutMs} ms)`;
      resolve({ stdout, stderr, code: code ?? (signal ? 128 : 1) });
    });
    child.stdin.on('error', () => {});
    if (options.input === undefined) child.stdin.end();
    else if (typeof options.input === 'string') child.stdin.end(options.input);
    else options.input.pipe(child.stdin);
  });
}

/** Runs a command and throws a CommandError unless it exits 0. */
export async function mustRun(
  command: string,
  args: readonly string[],
  options: RunOptions & { hint?: string } = {},
): Promise<string> {
  const result = await runCommand(command, args, options);
  if (result.code !== 0) throw new CommandError(displayCommand(command, args), result, options.hint);
  return result.stdout;
}
