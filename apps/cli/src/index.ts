export { CliError } from './cli-context.ts';
export { renderEnqueueCounts, renderOutcomes } from './enqueue-summary.ts';
export { createProgress } from './progress.ts';
export { describeBadLines, readEditsFile } from './read-edits-file.ts';
export { renderStatus } from './status-command.ts';
export { waitForJobs } from './wait-for-jobs.ts';
