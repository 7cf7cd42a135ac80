import { readFileSync } from 'node:fs';
import { type ComposeFile, parseCompose, parseDotenv } from '../../scripts/containers/compose-file.ts';

// The deploy tests read docker-compose.yml and .env.example through the same reader as the container
// check (scripts/containers/compose-file.ts), relative to the repository root.

export {
  type ComposeFile,
  type ComposeService,
  durationMs,
  interpolate,
  referencedVariables,
} from '../../scripts/containers/compose-file.ts';

export const root = new URL('../../', import.meta.url);

export function readText(path: string): string {
  return readFileSync(new URL(path, root), 'utf8');
}

export function readCompose(): ComposeFile {
  return parseCompose(readText('docker-compose.yml'));
}

/** KEY=value lines of a dotenv file (comments and blank lines skipped). */
export function readDotenv(path: string): Record<string, string> {
  return parseDotenv(readText(path));
}
