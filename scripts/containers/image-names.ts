import { readFileSync } from 'node:fs';

// The names the project's files pull, so the local base images carry exactly those names and the
// Dockerfile and the compose file run unchanged.

/** `node:24-slim` → `docker.io/library/node:24-slim`, as podman and docker resolve a short name. */
export function fullImageName(name: string): string {
  const [first, ...rest] = name.split('/');
  if (rest.length === 0) return `docker.io/library/${name}`;
  if (first.includes('.') || first.includes(':') || first === 'localhost') return name;
  return `docker.io/${name}`;
}

/** The images a Dockerfile's FROM lines name, with its ARG defaults substituted; stages are not images. */
export function dockerfileBaseImages(dockerfilePath: string): string[] {
  const text = readFileSync(dockerfilePath, 'utf8');
  const args: Record<string, string> = {};
  const stages = new Set<string>();
  const images: string[] = [];
  for (const line of text.split('\n')) {
    const arg = /^ARG\s+(\w+)=(\S+)/.exec(line);
    if (arg && images.length === 0) args[arg[1]] = arg[2];
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!from) continue;
    const image = from[1].replace(/\$\{(\w+)\}|\$(\w+)/g, (all, a: string, b: string) => {
      const value = args[a ?? b];
      if (value === undefined)
        throw new Error(`${dockerfilePath}: FROM ${from[1]} uses ${all}, which has no ARG default`);
      return value;
    });
    if (!stages.has(image)) images.push(fullImageName(image));
    if (from[2]) stages.add(from[2]);
  }
  return [...new Set(images)];
}

/** `docker.io/library/node:24.21.0-slim` → `24.21.0` (the Node version the base must carry). */
export function nodeVersionOf(image: string): string {
  const version = /\/node:(\d+\.\d+\.\d+)/.exec(image)?.[1];
  if (!version)
    throw new Error(`${image}: the Dockerfile's base is not node:X.Y.Z-…; the local recipe builds only that`);
  return version;
}
