import type { Quote } from '@runflow-queue/producer';
import { formatMicroUsd, formatTable } from '@runflow-queue/shared';
import {
  CliError,
  CONNECTION_HELP,
  connectionOptions,
  type Env,
  loadWorkloadsFlag,
  openProducer,
  parseCommandArgs,
} from './cli-context.ts';
import { describeBadLines, readEditsFile } from './read-edits-file.ts';

export const QUOTE_HELP = (
  env: Env,
) => `runflow-queue quote — what a JSONL file of edits would cost, and when it would be done

Usage: runflow-queue quote --file edits.jsonl [--queue NAME] [--workloads FILE] [--json]

  --file PATH        JSONL: one edit request per line, as runflow-queue enqueue --file takes
  --workloads FILE   the workers' workloads file: the queue's budget, rate share, allowed models and
                     in-flight caps (default: $WORKLOADS_FILE; without it, no budget verdict and the
                     workers' default rate of 20 requests/s)
  --json             print the quote as JSON (the same data as POST /v1/edits:quote)
${CONNECTION_HELP(env)}

Nothing is enqueued and no Runflow request is made. Prices are the ones the ledger books: the price
table, with every requested image delivered; a surcharge Runflow does not document for the model is
named as an estimate. The ETA counts the jobs ahead in the queue, the queue's share of the rate limit,
and the run times and polls of its recent jobs.
Exit codes: 0 ok (budget admits, or no budget); 1 invalid lines, or the budget does not admit it; 2 usage.`;

function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`;
}

/** The per-line table, then the totals: price, budget windows, ETA and how it was estimated. */
export function renderQuote(quote: Quote, lineNumbers: readonly number[]): string {
  const yesNo = (admitted: boolean | undefined) => (admitted === undefined ? '-' : admitted ? 'yes' : 'NO');
  const table = formatTable(
    ['line', 'model', 'images', 'per image', 'cost', 'cumulative', 'budget', 'eta', 'notes'],
    quote.lines.map((line) => [
      lineNumbers[line.index] ?? line.index + 1,
      line.model,
      line.images,
      formatMicroUsd(line.perImageMicroUsd),
      formatMicroUsd(line.costMicroUsd),
      formatMicroUsd(line.cumulativeMicroUsd),
      yesNo(line.admitted),
      seconds(line.etaMs),
      [line.refusal, ...line.estimates.map((e) => `estimate: ${e}`)].filter(Boolean).join('; '),
    ]),
    ['right', 'left', 'right', 'right', 'right', 'right', 'left', 'right', 'left'],
  );
  const out = [
    table,
    '',
    `total        ${formatMicroUsd(quote.totalMicroUsd)} (${quote.totalMicroUsd} µUSD) for ${quote.count} edit(s) in queue ${quote.queue}${quote.estimated ? ', partly estimated (see notes)' : ''}`,
  ];
  if (!quote.budget) out.push('budget       none for this queue (or no workloads file given)');
  for (const w of quote.budget?.windows ?? []) {
    out.push(
      `budget ${w.window.padEnd(5)} cap ${formatMicroUsd(w.capMicroUsd)}, spent ${formatMicroUsd(w.spentMicroUsd)}, reserved ${formatMicroUsd(w.reservedMicroUsd)}; ` +
        `${w.admits ? 'admits it' : `does NOT admit it (policy ${w.policy})`}, ${formatMicroUsd(w.remainingAfterMicroUsd)} would remain`,
    );
  }
  const { eta } = quote;
  out.push(
    `eta          ${seconds(eta.etaMs)} (done about ${eta.doneAt}): ${eta.ahead} job(s) ahead, ${eta.requestsPerSecond.toFixed(1)} requests/s for this queue, ${eta.requestsPerJob.toFixed(2)} requests/job, runs ~${seconds(eta.runMs)}`,
    ...eta.basis.map((b) => `             ${b}`),
  );
  return out.join('\n');
}

export async function quoteCommand(
  args: string[],
  env: Env,
  io: { stdout: { write(chunk: string): boolean }; stderr: { write(chunk: string): boolean } },
): Promise<number> {
  const { values } = parseCommandArgs('quote', args, {
    ...connectionOptions(env),
    file: { type: 'string' },
    workloads: { type: 'string', default: env.WORKLOADS_FILE },
    json: { type: 'boolean', default: false },
  });
  if (values.help) {
    io.stdout.write(`${QUOTE_HELP(env)}\n`);
    return 0;
  }
  if (values.file === undefined) throw new CliError('--file is required; see: runflow-queue quote --help');
  const workloads = loadWorkloadsFlag(values.workloads);
  const producer = openProducer(values, env);
  try {
    const file = await readEditsFile(values.file, (request) => producer.validate(request));
    if (file.invalid.length > 0) {
      io.stderr.write(
        `${file.invalid.length} of ${file.valid.length + file.invalid.length} line(s) in ${values.file} are invalid; no quote:\n${describeBadLines(file.invalid)}\n`,
      );
      return 1;
    }
    if (file.valid.length === 0) throw new CliError(`--file ${JSON.stringify(values.file)}: no edit requests in it`, 1);
    const quote = await producer.quote(
      values.queue,
      file.valid.map((l) => l.request),
      { workloads },
    );
    io.stdout.write(
      `${
        values.json
          ? JSON.stringify(quote, null, 2)
          : renderQuote(
              quote,
              file.valid.map((l) => l.line),
            )
      }\n`,
    );
    return quote.budget && !quote.budget.admits ? 1 : 0;
  } finally {
    await producer.close();
  }
}
