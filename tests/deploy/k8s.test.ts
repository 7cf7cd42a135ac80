import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type AppName, appEnv, appOfCommand, workerDefaults } from './app-env.ts';
import { type Manifest, renderKustomization, strategicMerge } from './render-kustomize.ts';

const k8s = (path: string) => fileURLToPath(new URL(`../../infra/k8s/${path}`, import.meta.url));
const base = renderKustomization(k8s('base'));
const production = renderKustomization(k8s('overlays/production'));

/** Variables that are secrets: they may only come from a Secret, through secretKeyRef. */
const SECRET_VARIABLES = ['REDIS_URL', 'RUNFLOW_API_KEY', 'CALLBACK_SECRETS', 'DASHBOARD_PASSWORD', 'API_TOKENS'];
const SECRET_NAME = 'runflow-queue-secrets';
const APPS = ['worker', 'callback-ingest', 'dashboard', 'api'] as const;

function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

const deployments = (manifests: Manifest[]) => manifests.filter((m) => m.kind === 'Deployment');
const container = (deployment: Manifest): Manifest => deployment.spec.template.spec.containers[0];

/** Every variable a container gets: its env plus every key of the ConfigMaps it takes with envFrom. */
function containerEnv(manifests: Manifest[], c: Manifest): Map<string, Manifest> {
  const env = new Map<string, Manifest>();
  for (const source of c.envFrom ?? []) {
    if (!source.configMapRef) continue;
    const data = find(manifests, 'ConfigMap', source.configMapRef.name).data ?? {};
    for (const [name, value] of Object.entries(data)) env.set(name, { name, value, from: 'configMap' });
  }
  for (const variable of c.env ?? []) env.set(variable.name, variable);
  return env;
}

describe('infra/k8s', () => {
  describe.each([
    ['base', base],
    ['production', production],
  ])('%s', (_overlay, manifests) => {
    it('has the apps, their Services and PodDisruptionBudgets, and the ConfigMaps', () => {
      const names = (kind: string) =>
        manifests
          .filter((m) => m.kind === kind)
          .map((m) => m.metadata.name)
          .sort();
      expect(names('Deployment')).toEqual(['api', 'callback-ingest', 'dashboard', 'worker']);
      expect(names('Service')).toEqual(['api', 'callback-ingest', 'dashboard']);
      expect(names('PodDisruptionBudget')).toEqual(['callback-ingest', 'worker']);
      expect(names('ConfigMap')).toEqual([
        'callback-ingest-config',
        'dashboard-config',
        'runflow-queue-shared',
        'worker-config',
      ]);
      expect(names('Secret')).toEqual([]);
    });

    it('runs each Deployment’s app, selected by labels its pods carry and nobody else’s', () => {
      for (const deployment of deployments(manifests)) {
        const name = deployment.metadata.name as AppName;
        const selector = deployment.spec.selector.matchLabels;
        expect(matches(selector, deployment.spec.template.metadata.labels), name).toBe(true);
        const others = deployments(manifests).filter((d) => d !== deployment);
        expect(
          others.filter((d) => matches(selector, d.spec.template.metadata.labels)),
          name,
        ).toEqual([]);
        expect(appOfCommand(container(deployment).command), name).toBe(name);
        expect(container(deployment).image).toMatch(/^(runflow-queue|[\w.-]+\/runflow-queue:[\w.-]+)$/);
      }
    });

    it('routes each Service and PodDisruptionBudget to exactly one Deployment, on a named port it has', () => {
      for (const service of manifests.filter((m) => m.kind === 'Service')) {
        const targets = deployments(manifests).filter((d) =>
          matches(service.spec.selector, d.spec.template.metadata.labels),
        );
        expect(targets.map((d) => d.metadata.name)).toEqual([service.metadata.name]);
        const portNames = container(targets[0]).ports.map((p: Manifest) => p.name);
        for (const port of service.spec.ports) expect(portNames).toContain(port.targetPort);
      }
      for (const pdb of manifests.filter((m) => m.kind === 'PodDisruptionBudget')) {
        const targets = deployments(manifests).filter((d) =>
          matches(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels),
        );
        expect(targets.map((d) => d.metadata.name)).toEqual([pdb.metadata.name]);
        expect(pdb.spec.maxUnavailable ?? pdb.spec.minAvailable).toBeDefined();
      }
    });

    it('probes every app: workers on /healthz of their metrics port (no Redis), HTTP apps on /healthz and /readyz', () => {
      for (const deployment of deployments(manifests)) {
        const c = container(deployment);
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
          expect(c[probe]?.httpGet, `${deployment.metadata.name} ${probe}`).toBeDefined();
          const port = c.ports.find((p: Manifest) => p.name === c[probe].httpGet.port);
          expect(port, `${deployment.metadata.name} ${probe} port`).toBeDefined();
        }
      }
      const worker = container(find(manifests, 'Deployment', 'worker'));
      expect(worker.ports).toEqual([{ name: 'metrics', containerPort: 9464 }]);
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        expect(worker[probe].httpGet).toEqual({ path: '/healthz', port: 'metrics' });
      }
      const ingest = container(find(manifests, 'Deployment', 'callback-ingest'));
      expect(ingest.readinessProbe.httpGet.path).toBe('/readyz');
      expect(ingest.livenessProbe.httpGet.path).toBe('/healthz');
      expect(ingest.ports).toEqual([{ name: 'http', containerPort: 3000 }]);
      expect(container(find(manifests, 'Deployment', 'dashboard')).ports[0].containerPort).toBe(3100);
      expect(container(find(manifests, 'Deployment', 'api')).ports[0].containerPort).toBe(3200);
    });

    it('gives a stopping worker longer than its own shutdown grace, which outlasts one Runflow request', () => {
      const worker = find(manifests, 'Deployment', 'worker');
      const env = containerEnv(manifests, container(worker));
      const shutdownGraceMs = Number(env.get('SHUTDOWN_GRACE_MS')?.value ?? workerDefaults().shutdownGraceMs);
      const runflowTimeoutMs = Number(env.get('RUNFLOW_TIMEOUT_MS')?.value ?? workerDefaults().runflowTimeoutMs);
      expect(shutdownGraceMs).toBeGreaterThan(runflowTimeoutMs);
      expect(worker.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(shutdownGraceMs);
    });

    it('sets only variables each app reads, and every secret only through secretKeyRef', async () => {
      for (const name of APPS) {
        const c = container(find(manifests, 'Deployment', name));
        const env = containerEnv(manifests, c);
        const known = await appEnv(name);
        const unknown = [...env.keys()].filter((variable) => !known.names.has(variable));
        expect(unknown, `${name} sets variables its ${known.source} env does not have`).toEqual([]);
        expect(c.envFrom.filter((source: Manifest) => source.secretRef)).toEqual([]);
        for (const variable of env.values()) {
          if (SECRET_VARIABLES.includes(variable.name)) {
            expect(variable.value, `${name} ${variable.name}`).toBeUndefined();
            expect(variable.valueFrom?.secretKeyRef?.name, `${name} ${variable.name}`).toBe(SECRET_NAME);
          } else {
            expect(variable.valueFrom?.secretKeyRef, `${name} ${variable.name}`).toBeUndefined();
          }
        }
      }
      // Each app gets the secrets it uses, and only those.
      const secretsOf = (name: string) =>
        (container(find(manifests, 'Deployment', name)).env as Manifest[])
          .filter((v) => v.valueFrom?.secretKeyRef)
          .map((v) => v.name)
          .sort();
      expect(secretsOf('worker')).toEqual(['REDIS_URL', 'RUNFLOW_API_KEY']);
      expect(secretsOf('callback-ingest')).toEqual(['CALLBACK_SECRETS', 'REDIS_URL']);
      expect(secretsOf('dashboard')).toEqual(['DASHBOARD_PASSWORD', 'REDIS_URL']);
      expect(secretsOf('api')).toEqual(['API_TOKENS', 'REDIS_URL']);
    });

    it('gives each app ConfigMap values its own validation accepts', async () => {
      // Secrets stand in as well-formed placeholders: only the ConfigMap values are under test.
      const placeholder = (name: string) =>
        name === 'REDIS_URL' ? 'redis://redis.example:6379' : 'placeholder-secret-0123456789';
      for (const name of APPS) {
        const { validate } = await appEnv(name);
        if (!validate) continue;
        const env = containerEnv(manifests, container(find(manifests, 'Deployment', name)));
        const values = Object.fromEntries(
          [...env.values()].map((v) => [v.name, v.valueFrom?.secretKeyRef ? placeholder(v.name) : String(v.value)]),
        );
        const result = validate(values);
        expect(result.success, `${name}: ${String(result.error)}`).toBe(true);
      }
    });

    it('runs every pod as non-root with a read-only root filesystem', () => {
      for (const deployment of deployments(manifests)) {
        const pod = deployment.spec.template.spec;
        expect(pod.securityContext.runAsNonRoot, deployment.metadata.name).toBe(true);
        for (const c of pod.containers) {
          expect(c.securityContext, deployment.metadata.name).toMatchObject({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
        }
      }
    });
  });

  it('base keeps a fixed worker count for clusters without KEDA', () => {
    expect(find(base, 'Deployment', 'worker').spec.replicas).toBe(3);
    expect(base.filter((m) => m.kind === 'ScaledObject')).toEqual([]);
  });

  it('production scales workers with KEDA on waiting + active jobs, never on parked ones', () => {
    const scaled = find(production, 'ScaledObject', 'worker');
    expect(scaled.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'worker' });
    find(production, 'Deployment', scaled.spec.scaleTargetRef.name);
    // KEDA owns the replica count: a `replicas` in the manifest would reset it on every apply.
    expect(find(production, 'Deployment', 'worker').spec).not.toHaveProperty('replicas');
    expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    expect(scaled.spec.maxReplicaCount).toBeGreaterThan(scaled.spec.minReplicaCount);

    expect(scaled.spec.triggers).toHaveLength(1);
    const [trigger] = scaled.spec.triggers;
    expect(trigger.type).toBe('prometheus');
    expect(trigger.metricType).toBe('AverageValue');
    const query: string = trigger.metadata.query;
    const states = /rfq_queue_jobs\{state=~"([^"]+)"\}/.exec(query)?.[1].split('|').sort();
    expect(states).toEqual(['active', 'prioritized', 'waiting']);
    expect(query).not.toMatch(/parked|delayed/);
    expect(query).toMatch(/^sum\(max by \(queue, state\) \(rfq_queue_jobs\{[^}]+\}\)\)$/);
    // One pod per WORKER_CONCURRENCY jobs.
    const workerConfig = find(production, 'ConfigMap', 'worker-config').data;
    expect(trigger.metadata.threshold).toBe(workerConfig.WORKER_CONCURRENCY);
    expect(trigger.metadata.serverAddress).toMatch(/^https?:\/\//);
  });

  it('production exposes only the callback route publicly, at the CALLBACK_URL the workers send', () => {
    const ingress = find(production, 'Ingress', 'callback-ingest');
    const rules = ingress.spec.rules as Manifest[];
    const paths = rules.flatMap((rule) =>
      rule.http.paths.map((p: Manifest) => ({ url: `https://${rule.host}${p.path}`, ...p })),
    );
    expect(paths).toHaveLength(1);
    expect(paths[0]).toMatchObject({
      pathType: 'Exact',
      path: '/v1/callbacks/runflow',
      backend: { service: { name: 'callback-ingest', port: { name: 'http' } } },
    });
    expect(ingress.spec.tls[0].hosts).toContain(rules[0].host);
    expect(find(production, 'ConfigMap', 'worker-config').data.CALLBACK_URL).toBe(paths[0].url);
    expect(find(base, 'ConfigMap', 'worker-config').data.CALLBACK_URL).toBeUndefined();
  });

  it('production pins the image and puts everything in its namespace', () => {
    for (const deployment of deployments(production)) {
      expect(container(deployment).image).toMatch(/^[\w.-]+\/runflow-queue:\d+\.\d+\.\d+$/);
    }
    for (const manifest of production) expect(manifest.metadata.namespace).toBe('runflow-queue');
  });

  it('renders patches the way kustomize does: maps merge, null deletes, named lists merge by name', () => {
    const merged = strategicMerge(
      { spec: { replicas: 3, containers: [{ name: 'a', image: 'x', env: [{ name: 'K', value: '1' }] }] } },
      { spec: { replicas: null, containers: [{ name: 'a', env: [{ name: 'L', value: '2' }] }] } },
    );
    expect(merged).toEqual({
      spec: {
        containers: [
          {
            name: 'a',
            image: 'x',
            env: [
              { name: 'K', value: '1' },
              { name: 'L', value: '2' },
            ],
          },
        ],
      },
    });
  });
});
