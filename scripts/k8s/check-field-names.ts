import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../containers/run-command.ts';
import { type Manifest, repoRoot } from './kustomize-build.ts';

// The schemas kubernetes-models validates with allow unknown fields (as kubeconform does without
// -strict), but `kubectl apply` refuses them (server-side field validation is Strict since 1.27). Its
// TypeScript types list every field, so each manifest is type-checked as an object literal that
// `satisfies` its kind's interface: TypeScript's excess-property check then names a misspelled or
// misplaced field ("… 'replica' does not exist in type 'IIoK8sApiAppsV1DeploymentSpec'").
// TypeScript stops at the first such field in a manifest: fix it and the next one shows.

function typeModule(apiVersion: string, kind: string): string {
  if (apiVersion.startsWith('keda.sh/')) return `@kubernetes-models/keda/${apiVersion}/${kind}`;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

export interface FieldNameError {
  index: number;
  message: string;
}

/** One error per manifest with an unknown field (by index into `manifests`). */
export async function checkFieldNames(manifests: Manifest[]): Promise<FieldNameError[]> {
  const dir = join(repoRoot, 'node_modules/.cache', `rfq-k8s-fields-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  try {
    const imports = new Map<string, string>();
    const lines: string[] = [];
    manifests.forEach((manifest, index) => {
      const module = typeModule(manifest.apiVersion, manifest.kind);
      const alias = imports.get(module) ?? `T${imports.size}`;
      imports.set(module, alias);
      lines[index] = `export const m${index} = ${JSON.stringify(manifest)} satisfies ${alias};`;
    });
    // Imports after the manifests, so line N + 1 is manifest N.
    const header = [...imports].map(
      ([module, alias]) => `import type { I${module.split('/').pop()} as ${alias} } from '${module}';`,
    );
    writeFileSync(join(dir, 'manifests.ts'), [...lines, ...header, ''].join('\n'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'esnext',
          moduleResolution: 'bundler',
          target: 'es2022',
          skipLibCheck: true,
          types: [],
        },
        files: ['manifests.ts'],
      }),
    );
    const result = await runCommand(join(repoRoot, 'node_modules/.bin/tsc'), ['-p', join(dir, 'tsconfig.json')]);
    const errors: FieldNameError[] = [];
    for (const match of result.stdout.matchAll(/manifests\.ts\((\d+),\d+\): error TS\d+: (.*)/g)) {
      const index = Number(match[1]) - 1;
      if (index >= manifests.length) throw new Error(`type-checking the manifests failed: ${match[2]}`);
      // JSON's quoted keys: '"replica"' → 'replica'.
      errors.push({ index, message: match[2].replaceAll(/'"([^"]*)"'/g, "'$1'") });
    }
    if (result.code !== 0 && errors.length === 0) {
      throw new Error(`tsc could not check the manifests: ${(result.stdout + result.stderr).trim().slice(0, 500)}`);
    }
    return errors;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
