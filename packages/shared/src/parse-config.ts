import type { z } from 'zod';
import { RunflowQueueError } from './error-codes.ts';

/**
 * Parses an app's environment once, at boot. The error names every bad variable with the value it
 * had and what is wrong; secret variables show "(hidden)" instead of their value.
 */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  source: Record<string, string | undefined>,
  options: { app: string; secrets?: readonly string[] },
): z.infer<S> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const secrets = new Set(options.secrets ?? []);
  const lines = result.error.issues.map((issue) => {
    const name = String(issue.path[0]);
    const shown = secrets.has(name) && source[name] !== undefined ? '(hidden)' : JSON.stringify(source[name] ?? null);
    return `  ${name}=${shown}: ${issue.message}`;
  });
  throw new RunflowQueueError('CONFIG_INVALID', `invalid ${options.app} configuration:\n${lines.join('\n')}`);
}
