import { join } from 'node:path';
import { checkFieldNames } from './check-field-names.ts';
import { kustomizeBuild, kustomizeVersion, repoRoot } from './kustomize-build.ts';
import { validateManifest } from './validate-manifest.ts';

// `pnpm k8s`: every overlay of infra/k8s rendered by kustomize, each manifest validated against the
// Kubernetes and KEDA schemas (kubernetes-models) and its field names against their types (no unknown
// field). One row per manifest; exits 1 on any error, each naming the overlay, the manifest, the field,
// its value and what the schema wants.

const OVERLAYS = ['base', 'overlays/production'];

const rows: [string, string, string][] = [];
const problems: string[] = [];
console.log(`kustomize ${await kustomizeVersion()}; schemas: kubernetes-models, @kubernetes-models/keda`);
for (const overlay of OVERLAYS) {
  const manifests = await kustomizeBuild(join(repoRoot, 'infra/k8s', overlay));
  const unknownFields = await checkFieldNames(manifests);
  for (const [index, manifest] of manifests.entries()) {
    const verdict = await validateManifest(manifest);
    verdict.errors.push(...unknownFields.filter((e) => e.index === index).map((e) => e.message));
    rows.push([
      overlay,
      `${verdict.apiVersion} ${verdict.kind} ${verdict.name}`,
      verdict.errors.length ? 'INVALID' : 'valid',
    ]);
    for (const error of verdict.errors) problems.push(`${overlay}: ${verdict.kind} ${verdict.name}: ${error}`);
  }
}
const width = [0, 1].map((c) => Math.max(...rows.map((row) => row[c].length)));
for (const row of rows) console.log(`${row[0].padEnd(width[0])}  ${row[1].padEnd(width[1])}  ${row[2]}`);
for (const problem of problems) console.log(`error: ${problem}`);
console.log(`k8s: ${rows.length} manifests, ${problems.length} errors`);
process.exitCode = problems.length === 0 ? 0 : 1;
