import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { APP_MAIN } from './app-env.ts';
import { readText } from './compose-file.ts';

// No Docker engine in CI: these checks read infra/Dockerfile and .dockerignore against the workspace.

const dockerfile = readText('infra/Dockerfile');
const ignored = readText('.dockerignore')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
const rootPackage = JSON.parse(readText('package.json')) as { packageManager: string };

interface WorkspacePackage {
  dir: string;
  name: string;
  dependencies: Record<string, string>;
}

const workspace: WorkspacePackage[] = ['apps', 'packages'].flatMap((parent) =>
  readdirSync(new URL(`../../${parent}/`, import.meta.url)).map((child) => {
    const manifest = JSON.parse(readText(`${parent}/${child}/package.json`)) as {
      name: string;
      dependencies?: Record<string, string>;
    };
    return { dir: `${parent}/${child}`, name: manifest.name, dependencies: manifest.dependencies ?? {} };
  }),
);

function arg(name: string): string | undefined {
  return new RegExp(`^ARG ${name}=(\\S+)$`, 'm').exec(dockerfile)?.[1];
}

/** Workspace packages reachable through production dependencies from `names`. */
function productionClosure(names: string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const pkg = workspace.find((p) => p.name === name);
    for (const [dependency, range] of Object.entries(pkg?.dependencies ?? {})) {
      if (range.startsWith('workspace:')) visit(dependency);
    }
  };
  for (const name of names) visit(name);
  return seen;
}

describe('infra/Dockerfile', () => {
  it('builds on node:24-slim in two stages and runs as the unprivileged node user', () => {
    const stages = [...dockerfile.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)];
    expect(stages.map((stage) => stage[1])).toEqual([`node:\${NODE_VERSION}-slim`, `node:\${NODE_VERSION}-slim`]);
    expect(arg('NODE_VERSION')).toMatch(/^24\.\d+\.\d+$/);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).not.toMatch(/^USER root$/m);
    expect(runtime).toMatch(/^ENV NODE_ENV=production$/m);
    expect(runtime).toContain('COPY --from=deps /app /app');
    expect(runtime).toMatch(/^CMD \["node", "apps\/worker\/src\/main\.ts"\]$/m);
  });

  it('installs the pnpm pinned in package.json, from the frozen lockfile, production dependencies only', () => {
    expect(`pnpm@${arg('PNPM_VERSION')}`).toBe(rootPackage.packageManager);
    expect(dockerfile).toContain(`npm install --global --no-audit --no-fund "pnpm@\${PNPM_VERSION}"`);
    const install = /pnpm install [^\n]*(?:\\\n[^\n]*)*/.exec(dockerfile)?.[0] ?? '';
    expect(install).toContain('--frozen-lockfile');
    expect(install).toContain('--prod');
  });

  it('installs every app the image runs, and nothing .dockerignore leaves out', () => {
    const filtered = [...dockerfile.matchAll(/--filter-prod '(@runflow-queue\/[\w-]+)\.\.\.'/g)].map((m) => m[1]);
    for (const name of filtered) expect(workspace.map((p) => p.name)).toContain(name);
    const runnable = Object.values(APP_MAIN).map((main) => main.replace(/\/src\/main\.ts$/, ''));
    const runnableNames = workspace.filter((p) => runnable.includes(p.dir)).map((p) => p.name);
    expect(new Set(filtered)).toEqual(new Set([...runnableNames, '@runflow-queue/cli']));
    // Every workspace package those apps import is in the build context.
    const excludedDirs = new Set(ignored);
    for (const name of productionClosure(filtered)) {
      const pkg = workspace.find((p) => p.name === name);
      expect(pkg && excludedDirs.has(pkg.dir), `${name} is needed at runtime but .dockerignore drops it`).toBe(false);
    }
  });

  it('keeps node_modules, secrets, git and tests out of the build context, and the workspace files in', () => {
    for (const entry of ['node_modules', '**/node_modules', '.env', '.git', 'tests', 'bench', '.tools']) {
      expect(ignored).toContain(entry);
    }
    // pnpm-workspace.yaml carries allowBuilds and pmOnFail: the install in the image needs it.
    for (const kept of ['pnpm-workspace.yaml', 'pnpm-lock.yaml', 'package.json', 'apps', 'packages']) {
      expect(ignored).not.toContain(kept);
    }
    expect(dockerfile).toMatch(/^COPY \. \.$/m);
  });
});
