import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkFieldNames } from '../../scripts/k8s/check-field-names.ts';
import { kustomizeBuild, type Manifest } from '../../scripts/k8s/kustomize-build.ts';
import { validateManifest } from '../../scripts/k8s/validate-manifest.ts';
import { renderKustomization } from './render-kustomize.ts';

const k8s = (path: string) => fileURLToPath(new URL(`../../infra/k8s/${path}`, import.meta.url));
const key = (m: Manifest) => `${m.apiVersion} ${m.kind} ${m.metadata.name}`;
const byKey = (manifests: Manifest[]) => Object.fromEntries(manifests.map((m) => [key(m), m]));

describe.each(['base', 'overlays/production'])('infra/k8s/%s rendered by kustomize', (overlay) => {
  it('validates against the Kubernetes and KEDA schemas, every manifest', async () => {
    const manifests = await kustomizeBuild(k8s(overlay));
    expect(manifests.length).toBeGreaterThan(10);
    const verdicts = await Promise.all(manifests.map(validateManifest));
    expect(verdicts.filter((v) => v.errors.length > 0)).toEqual([]);
    expect(await checkFieldNames(manifests)).toEqual([]);
  });

  it('is what the deploy tests’ own renderer makes (k8s.test.ts checks that rendering)', async () => {
    expect(byKey(renderKustomization(k8s(overlay)))).toEqual(byKey(await kustomizeBuild(k8s(overlay))));
  });
});

describe('the schema validation', () => {
  it('names the field, the value and the rule for a manifest the API server would refuse', async () => {
    const manifests = await kustomizeBuild(k8s('overlays/production'));
    const worker = structuredClone(manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === 'worker')!);
    worker.spec.replicas = '3';
    worker.spec.template.spec.containers[0].ports[0].containerPort = 'metrics';
    const verdict = await validateManifest(worker);
    expect(verdict.errors).toEqual([
      'spec.replicas: "3" — must be integer',
      'spec.template.spec.containers[0].ports[0].containerPort: "metrics" — must be integer',
    ]);

    const scaled = structuredClone(manifests.find((m) => m.kind === 'ScaledObject')!);
    delete scaled.spec.scaleTargetRef;
    expect((await validateManifest(scaled)).errors).toEqual(['spec.scaleTargetRef: missing — required']);
  });

  it('names a field the kind does not have (kubectl apply refuses unknown fields)', async () => {
    const manifests = await kustomizeBuild(k8s('overlays/production'));
    const broken = structuredClone(manifests);
    const worker = broken.findIndex((m) => m.kind === 'Deployment' && m.metadata.name === 'worker');
    broken[worker].spec.template.spec.containers[0].imagePullPolicyy = 'Always';
    const scaled = broken.findIndex((m) => m.kind === 'ScaledObject');
    broken[scaled].spec.minReplicaCountt = 2;
    const errors = await checkFieldNames(broken);
    expect(errors.map((e) => e.index)).toEqual([worker, scaled]);
    expect(errors[0].message).toMatch(/'imagePullPolicyy' does not exist in type 'I\w*Container'/);
    expect(errors[1].message).toMatch(/'minReplicaCountt' does not exist in type 'IScaledObjectSpec'/);
  });

  it('fails a kind it has no schema for instead of passing it', async () => {
    const verdict = await validateManifest({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } });
    expect(verdict.errors).toEqual([
      'no schema for example.com/v1 Widget in kubernetes-models or @kubernetes-models/keda',
    ]);
  });
});
