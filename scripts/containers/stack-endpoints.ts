import type { ComposeStack } from './compose-stack.ts';

// Where the check reaches each service: its published port on 127.0.0.1 inside the check's network
// namespace, read from docker-compose.yml (`[ip:]host:container`), never a number written twice.

export function publishedUrl(stack: ComposeStack, service: string): string {
  const spec = stack.service(service).ports[0];
  if (!spec) throw new Error(`service ${service} publishes no port in docker-compose.yml; the check reaches it there`);
  const parts = spec.split(':');
  const hostPort = parts.length === 3 ? parts[1] : parts[0];
  return `http://127.0.0.1:${hostPort}`;
}

/** The first API token of `API_TOKENS` (`name:token` or a bare token). */
export function apiToken(stack: ComposeStack): string {
  const first = (stack.service('api').environment.API_TOKENS ?? '').split(',')[0].trim();
  if (!first) throw new Error('api: API_TOKENS is empty in the env the check uses (.env.example)');
  const colon = first.indexOf(':');
  return colon === -1 ? first : first.slice(colon + 1);
}

export async function httpStatus(url: string, init?: RequestInit): Promise<number> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    return response.status;
  } catch (error) {
    throw new Error(`GET ${url}: ${(error as Error).message} (is the container's port published?)`);
  }
}

export async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}
