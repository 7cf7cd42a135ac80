import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

// Reading docker-compose.yml and a dotenv file the way `docker compose` does, as far as this project
// needs: YAML merge keys (`<<: *app`) and `${VAR}`, `${VAR:-default}`, `${VAR:?message}`. The deploy
// tests and the container check both read the compose file through here.

export interface ComposeHealthcheck {
  test?: string[] | string;
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
  disable?: boolean;
}

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  profiles?: string[];
  environment?: Record<string, string | number>;
  healthcheck?: ComposeHealthcheck;
  deploy?: { replicas?: number };
  depends_on?: Record<string, { condition?: string; required?: boolean }>;
  stop_grace_period?: string;
  restart?: string;
  volumes?: string[];
  ports?: string[];
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export function parseCompose(text: string): ComposeFile {
  return parse(text, { merge: true }) as ComposeFile;
}

export function readComposeFile(path: string): ComposeFile {
  return parseCompose(readFileSync(path, 'utf8'));
}

/** KEY=value lines of a dotenv text (comments and blank lines skipped). */
export function parseDotenv(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) values[match[1]] = match[2];
  }
  return values;
}

const REFERENCE = /\$\{([A-Z][A-Z0-9_]*)(?:(:?[-?])([^}]*))?\}/g;

/** Every variable a text interpolates. */
export function referencedVariables(text: string): Set<string> {
  return new Set([...text.matchAll(REFERENCE)].map((match) => match[1]));
}

/** Compose interpolation against `env`; a missing `:?` variable throws as compose would. */
export function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(REFERENCE, (_all, name: string, operator: string | undefined, operand: string | undefined) => {
    const set = env[name] !== undefined && env[name] !== '';
    if (operator === ':-' || operator === '-') return set ? env[name] : (operand ?? '');
    if ((operator === ':?' || operator === '?') && !set) throw new Error(`${name}: ${operand}`);
    return env[name] ?? '';
  });
}

/** "50s", "1m30s", "500ms" → milliseconds. */
export function durationMs(value: string): number {
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(amount) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  }
  return total;
}
