import type { Manifest } from './kustomize-build.ts';

// Each rendered manifest against the schema of its apiVersion and kind: kubernetes-models (the
// Kubernetes OpenAPI schemas, compiled to ajv validators) and @kubernetes-models/keda (KEDA's CRDs).
// A kind with no schema here is an error, never a pass: add its package, or the manifest is unchecked.

interface Model {
  validate(): void;
}
type ModelClass = new (data: Manifest) => Model;

interface AjvError {
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** apiVersion → the module that has its kinds. */
function moduleOf(apiVersion: string): string {
  if (apiVersion.startsWith('keda.sh/')) return `@kubernetes-models/keda/${apiVersion}`;
  return `kubernetes-models/${apiVersion}`;
}

export interface ManifestVerdict {
  apiVersion: string;
  kind: string;
  name: string;
  errors: string[];
}

function valueAt(manifest: Manifest, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], manifest);
}

/** "spec.template.spec.containers[0].ports[0].containerPort: \"x\" — must be integer" */
function describe(manifest: Manifest, error: AjvError): string {
  const missing = error.params?.missingProperty as string | undefined;
  const pointer = missing ? `${error.instancePath}/${missing}` : error.instancePath;
  const path = pointer
    .split('/')
    .slice(1)
    .map((key, i) => (/^\d+$/.test(key) ? `[${key}]` : i === 0 ? key : `.${key}`))
    .join('');
  if (missing) return `${path}: missing — required`;
  const value = JSON.stringify(valueAt(manifest, pointer)) ?? 'missing';
  const shown = value.length > 80 ? `${value.slice(0, 77)}…` : value;
  const allowed = error.params?.allowedValues
    ? `; allowed: ${(error.params.allowedValues as string[]).join(', ')}`
    : '';
  return `${path || '(root)'}: ${shown} — ${error.message ?? 'invalid'}${allowed}`;
}

export async function validateManifest(manifest: Manifest): Promise<ManifestVerdict> {
  const { apiVersion = '(none)', kind = '(none)' } = manifest;
  const verdict: ManifestVerdict = { apiVersion, kind, name: manifest.metadata?.name ?? '(none)', errors: [] };
  let model: ModelClass | undefined;
  try {
    model = ((await import(moduleOf(apiVersion))) as Record<string, ModelClass>)[kind];
  } catch {
    model = undefined;
  }
  if (!model) {
    verdict.errors.push(`no schema for ${apiVersion} ${kind} in kubernetes-models or @kubernetes-models/keda`);
    return verdict;
  }
  try {
    new model(manifest).validate();
  } catch (error) {
    const ajv = (error as { errors?: AjvError[] }).errors;
    verdict.errors.push(...(ajv ? ajv.map((e) => describe(manifest, e)) : [(error as Error).message]));
  }
  return verdict;
}
