import type { CallerEditRequest, EditHandle, EditProducer, EnqueueOptions } from '@runflow-queue/producer';
import { type FieldIssue, formatFieldIssues, MODEL_IDS } from '@runflow-queue/shared';
import {
  CliError,
  CONNECTION_HELP,
  connectionOptions,
  type Env,
  intFlag,
  openProducer,
  parseCommandArgs,
} from './cli-context.ts';
import { type EnqueueCounts, renderEnqueueCounts, renderOutcomes } from './enqueue-summary.ts';
import { createProgress, type ProgressStream } from './progress.ts';
import { describeBadLines, readEditsFile } from './read-edits-file.ts';
import { waitForJobs } from './wait-for-jobs.ts';

export const ENQUEUE_HELP = (env: Env) => `runflow-queue enqueue — enqueue edits, from flags or a JSONL file

Usage:
  runflow-queue enqueue --model M --prompt TEXT --image-url URL [--image-url URL …] [options]
  runflow-queue enqueue --file edits.jsonl [options]

One edit from flags:
  --model M              ${MODEL_IDS.join(' | ')}
  --prompt TEXT          what to do to the image(s)
  --image-url URL        input image, repeatable (1–14)
  --num-images N         1–4 (default 1; you pay per delivered image)
  --resolution R         nano-banana-pro: 1K 2K 4K; nano-banana-2: 0.5K 1K 2K 4K
  --aspect-ratio R       e.g. 16:9
  --output-format F      jpeg | png | webp
  --thinking-level L     nano-banana-2 only: minimal | high
  --web-search           enable_web_search (nano-banana-2: +$0.015/image)
  --seed N
  --input JSON           any other input fields, as a JSON object (merged last)
  --idempotency-key K    same key (per queue) → same job, never a second run (kept 24 h)
  --cost-center C        carried into the spend ledger
  --label K=V            free-form label, repeatable
  --notify-url URL       https URL for the signed edit.completed / edit.failed webhook

Many edits from a file:
  --file PATH            JSONL: one edit request per line, e.g.
                         {"model":"google/nano-banana-2/edit","input":{"prompt":"…","image_urls":["https://…"]}}
                         Every line is validated first; bad lines are reported by line number and
                         nothing is enqueued unless --skip-invalid.
  --skip-invalid         enqueue the valid lines even if some are bad (exit code stays 1)
  --key-prefix P         lines without an idempotencyKey get "P:<line>": re-running the file is safe
  --chunk-size N         lines per atomic batch (default 50)

Both:
  --priority N           1 runs first … 2097152 (default 1000: 1–999 jump the default backlog)
  --delay-ms N           start no earlier than N ms from now
  --wait                 wait for the jobs, then print completed / failed and spend per model
  --timeout-s N          how long --wait waits (default 600)
${CONNECTION_HELP(env)}

Exit codes: 0 ok; 1 invalid lines, failed jobs or jobs unfinished at the timeout; 2 usage.`;

/** Flags that set an input field, for building the request and for naming the flag in errors. */
const INPUT_FLAGS: Record<string, string> = {
  prompt: 'prompt',
  'image-url': 'image_urls',
  'num-images': 'num_images',
  resolution: 'resolution',
  'aspect-ratio': 'aspect_ratio',
  'output-format': 'output_format',
  'thinking-level': 'thinking_level',
  'web-search': 'enable_web_search',
  seed: 'seed',
};
const FLAG_OF: Record<string, string> = {
  model: '--model',
  idempotencyKey: '--idempotency-key',
  'tags.costCenter': '--cost-center',
  notifyUrl: '--notify-url',
  priority: '--priority',
  delayMs: '--delay-ms',
  ...Object.fromEntries(Object.entries(INPUT_FLAGS).map(([flag, field]) => [`input.${field}`, `--${flag}`])),
};

/** "input.resolution: "8K" — Invalid option; allowed: 1K, 2K, 4K (flag --resolution)". */
function describeIssues(issues: readonly FieldIssue[]): string {
  return issues
    .map((issue) => {
      const flag = FLAG_OF[issue.path.replace(/\.\d+$/, '')];
      return `  ${formatFieldIssues([issue])}${flag ? ` (flag ${flag})` : ''}`;
    })
    .join('\n');
}

interface IO {
  stdout: { write(chunk: string): boolean };
  stderr: ProgressStream;
}

function requestFromFlags(values: Record<string, unknown>): CallerEditRequest {
  if (values.model === undefined) {
    throw new CliError(
      '--model is required (or --file with one edit request per line); see: runflow-queue enqueue --help',
    );
  }
  const input: Record<string, unknown> = {};
  if (values.prompt !== undefined) input.prompt = values.prompt;
  if (values['image-url'] !== undefined) input.image_urls = values['image-url'];
  const numImages = intFlag('num-images', values['num-images'] as string | undefined, 1);
  if (numImages !== undefined) input.num_images = numImages;
  for (const flag of ['resolution', 'aspect-ratio', 'output-format', 'thinking-level']) {
    if (values[flag] !== undefined) input[INPUT_FLAGS[flag]] = values[flag];
  }
  if (values['web-search']) input.enable_web_search = true;
  if (values.seed !== undefined) {
    const seed = Number(values.seed);
    if (!Number.isSafeInteger(seed))
      throw new CliError(`--seed ${JSON.stringify(values.seed)}: must be a whole number`);
    input.seed = seed;
  }
  if (values.input !== undefined) {
    let extra: unknown;
    try {
      extra = JSON.parse(values.input as string);
    } catch {
      throw new CliError(
        `--input ${JSON.stringify(values.input)}: not JSON; pass an object, e.g. --input '{"seed":7}'`,
      );
    }
    if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) {
      throw new CliError(`--input ${JSON.stringify(values.input)}: must be a JSON object, e.g. --input '{"seed":7}'`);
    }
    Object.assign(input, extra);
  }
  const labels: Record<string, string> = {};
  for (const label of (values.label as string[] | undefined) ?? []) {
    const eq = label.indexOf('=');
    if (eq <= 0)
      throw new CliError(`--label ${JSON.stringify(label)}: write it as key=value, e.g. --label campaign=spring`);
    labels[label.slice(0, eq)] = label.slice(eq + 1);
  }
  const tags = {
    ...(values['cost-center'] !== undefined ? { costCenter: values['cost-center'] as string } : {}),
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
  };
  return {
    model: values.model,
    input,
    ...(values['idempotency-key'] !== undefined ? { idempotencyKey: values['idempotency-key'] } : {}),
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
    ...(values['notify-url'] !== undefined ? { notifyUrl: values['notify-url'] } : {}),
  } as CallerEditRequest;
}

export async function enqueueCommand(args: string[], env: Env, io: IO): Promise<number> {
  const { values } = parseCommandArgs('enqueue', args, {
    ...connectionOptions(env),
    model: { type: 'string' },
    prompt: { type: 'string' },
    'image-url': { type: 'string', multiple: true },
    'num-images': { type: 'string' },
    resolution: { type: 'string' },
    'aspect-ratio': { type: 'string' },
    'output-format': { type: 'string' },
    'thinking-level': { type: 'string' },
    'web-search': { type: 'boolean' },
    seed: { type: 'string' },
    input: { type: 'string' },
    'idempotency-key': { type: 'string' },
    'cost-center': { type: 'string' },
    label: { type: 'string', multiple: true },
    'notify-url': { type: 'string' },
    file: { type: 'string' },
    'skip-invalid': { type: 'boolean', default: false },
    'key-prefix': { type: 'string' },
    'chunk-size': { type: 'string' },
    priority: { type: 'string' },
    'delay-ms': { type: 'string' },
    wait: { type: 'boolean', default: false },
    'timeout-s': { type: 'string' },
  });
  if (values.help) {
    io.stdout.write(`${ENQUEUE_HELP(env)}\n`);
    return 0;
  }
  const options: EnqueueOptions = {
    priority: intFlag('priority', values.priority, 1),
    delayMs: intFlag('delay-ms', values['delay-ms'], 0),
  };
  const timeoutMs = (intFlag('timeout-s', values['timeout-s'], 1) ?? 600) * 1000;
  const chunkSize = intFlag('chunk-size', values['chunk-size'], 1) ?? 50;
  const queue = values.queue;
  const producer = openProducer(values, env);
  try {
    let handles: EditHandle[];
    let counts: EnqueueCounts;
    if (values.file !== undefined) {
      const inputFlags = Object.keys(INPUT_FLAGS).filter((flag) => values[flag as keyof typeof values] !== undefined);
      if (values.model !== undefined || inputFlags.length > 0) {
        throw new CliError(
          `--file takes the edits from the file; drop --${values.model !== undefined ? 'model' : inputFlags[0]}`,
        );
      }
      const file = await readEditsFile(values.file, (request) => producer.validate(request), values['key-prefix']);
      const total = file.valid.length + file.invalid.length;
      if (file.invalid.length > 0) {
        io.stderr.write(`${file.invalid.length} of ${total} line(s) in ${values.file} are invalid:\n`);
        io.stderr.write(`${describeBadLines(file.invalid)}\n`);
        if (!values['skip-invalid']) {
          io.stderr.write(
            `nothing enqueued: fix the lines above, or pass --skip-invalid to enqueue the ${file.valid.length} valid line(s)\n`,
          );
          io.stdout.write(`${renderEnqueueCounts({ enqueued: 0, deduplicated: 0, invalid: file.invalid.length })}\n`);
          return 1;
        }
      }
      ({ handles, counts } = await enqueueInChunks(producer, queue, file.valid, options, chunkSize, io));
      counts.invalid = file.invalid.length;
    } else {
      const request = requestFromFlags(values);
      const issues = producer.validate(request, options);
      if (issues.length > 0) {
        io.stderr.write(`invalid edit request, nothing enqueued:\n${describeIssues(issues)}\n`);
        return 1;
      }
      const handle = await producer.enqueueEdit(queue, request, options);
      handles = [handle];
      counts = { enqueued: handle.deduplicated ? 0 : 1, deduplicated: handle.deduplicated ? 1 : 0, invalid: 0 };
      io.stdout.write(`${handle.deduplicated ? 'deduplicated' : 'enqueued'} ${handle.id} in queue ${queue}\n`);
    }
    io.stdout.write(`${renderEnqueueCounts(counts)}\n`);
    if (!values.wait) return counts.invalid > 0 ? 1 : 0;

    const progress = createProgress('finished', handles.length, io.stderr);
    const outcome = await waitForJobs(
      producer,
      queue,
      handles.map((h) => h.id),
      { timeoutMs, onProgress: (n) => progress.update(n) },
    );
    progress.finish(outcome.finished.length);
    io.stdout.write(`\n${renderOutcomes(outcome.finished, outcome.unfinished.length)}\n`);
    const failed = outcome.finished.some((s) => s.state === 'failed');
    return counts.invalid > 0 || failed || outcome.unfinished.length > 0 ? 1 : 0;
  } finally {
    await producer.close();
  }
}

async function enqueueInChunks(
  producer: EditProducer,
  queue: string,
  lines: readonly { line: number; request: CallerEditRequest }[],
  options: EnqueueOptions,
  chunkSize: number,
  io: IO,
): Promise<{ handles: EditHandle[]; counts: EnqueueCounts }> {
  const progress = createProgress('enqueued', lines.length, io.stderr);
  const handles: EditHandle[] = [];
  progress.update(0);
  for (let start = 0; start < lines.length; start += chunkSize) {
    const chunk = lines.slice(start, start + chunkSize);
    try {
      handles.push(
        ...(await producer.enqueueEdits(
          queue,
          chunk.map((l) => l.request),
          options,
        )),
      );
    } catch (error) {
      const code = (error as { code?: string }).code;
      progress.finish(handles.length);
      const where = `lines ${chunk[0].line}–${chunk[chunk.length - 1].line}`;
      throw new CliError(
        `${where}: ${(error as Error).message}${code ? ` (${code})` : ''}; ${handles.length} job(s) before them were enqueued — ` +
          'give lines idempotency keys (or --key-prefix) so a re-run skips those',
        1,
      );
    }
    progress.update(handles.length);
  }
  progress.finish(handles.length);
  const deduplicated = handles.filter((h) => h.deduplicated).length;
  return { handles, counts: { enqueued: handles.length - deduplicated, deduplicated, invalid: 0 } };
}
