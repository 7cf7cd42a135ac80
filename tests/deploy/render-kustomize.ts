import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

// The subset of kustomize that infra/k8s uses, so the manifests can be checked with no kustomize
// binary: `resources` (files or directories), `namespace`, `images`, and strategic-merge `patches`
// given by file. Any other field throws, so the manifests cannot quietly outgrow this renderer.

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML
export type Manifest = Record<string, any>;

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'patches']);

/** Lists of objects that strategic merge matches by `name` (containers, env, ports, volumes…). */
function mergeByName(target: unknown[], patch: unknown[]): unknown[] {
  const named = (item: unknown): item is Manifest => typeof item === 'object' && item !== null && 'name' in item;
  if (!patch.every(named) || !target.every(named)) return patch;
  const merged = [...target];
  for (const item of patch) {
    const index = merged.findIndex((existing) => (existing as Manifest).name === item.name);
    if (index === -1) merged.push(item);
    else merged[index] = strategicMerge(merged[index] as Manifest, item);
  }
  return merged;
}

/** Strategic merge as kustomize does it for these kinds: maps merge, `null` deletes, named lists merge. */
export function strategicMerge(target: Manifest, patch: Manifest): Manifest {
  const result: Manifest = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else if (Array.isArray(value) && Array.isArray(result[key])) result[key] = mergeByName(result[key], value);
    else if (typeof value === 'object' && !Array.isArray(value) && typeof result[key] === 'object')
      result[key] = strategicMerge(result[key], value);
    else result[key] = value;
  }
  return result;
}

function podContainers(manifest: Manifest): Manifest[] {
  const spec = manifest.spec?.template?.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

export function renderKustomization(dir: string): Manifest[] {
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Manifest;
  const unsupported = Object.keys(kustomization).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length > 0) throw new Error(`${dir}: kustomization fields not rendered by the test: ${unsupported}`);
  let manifests: Manifest[] = [];
  for (const resource of kustomization.resources ?? []) {
    const path = join(dir, resource);
    if (statSync(path).isDirectory()) manifests.push(...renderKustomization(path));
    else manifests.push(...parseAllDocuments(readFileSync(path, 'utf8')).map((doc) => doc.toJS() as Manifest));
  }
  for (const { path, ...rest } of kustomization.patches ?? []) {
    if (Object.keys(rest).length > 0)
      throw new Error(`${dir}: only file patches are rendered, got ${Object.keys(rest)}`);
    const patch = parse(readFileSync(join(dir, path), 'utf8')) as Manifest;
    const index = manifests.findIndex((m) => m.kind === patch.kind && m.metadata.name === patch.metadata.name);
    if (index === -1) throw new Error(`${dir}/${path}: no ${patch.kind} ${patch.metadata.name} to patch`);
    manifests[index] = strategicMerge(manifests[index], patch);
  }
  if (kustomization.namespace) {
    manifests = manifests.map((m) => ({ ...m, metadata: { ...m.metadata, namespace: kustomization.namespace } }));
  }
  for (const image of kustomization.images ?? []) {
    for (const container of manifests.flatMap(podContainers)) {
      const [name, tag] = String(container.image).split(':');
      if (name !== image.name) continue;
      container.image = [image.newName ?? name, image.newTag ?? tag].filter(Boolean).join(':');
    }
  }
  return manifests;
}
