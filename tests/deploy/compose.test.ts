import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { APP_MAIN, appEnv, appOfCommand, workerDefaults } from './app-env.ts';
import {
  durationMs,
  interpolate,
  readCompose,
  readDotenv,
  readText,
  referencedVariables,
  root,
} from './compose-file.ts';

const compose = readCompose();
const services = compose.services;
const dotenv = readDotenv('.env.example');
const APP_SERVICES = ['runflow-sim', 'callback-ingest', 'worker', 'dashboard', 'api'];

/** A service's environment as the container would see it with .env copied from .env.example. */
function resolvedEnv(service: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(services[service].environment ?? {}).map(([name, value]) => [
      name,
      interpolate(String(value), dotenv),
    ]),
  );
}

describe('docker-compose.yml', () => {
  it('has Redis, the apps, the simulator and the observability stack', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['api', 'callback-ingest', 'dashboard', 'grafana', 'prometheus', 'redis', 'runflow-sim', 'worker'].sort(),
    );
  });

  it('pins every pulled image to an exact version and builds the apps from the one Dockerfile', () => {
    for (const [name, service] of Object.entries(services)) {
      if (APP_SERVICES.includes(name)) {
        expect(service.build, name).toEqual({ context: '.', dockerfile: 'infra/Dockerfile' });
        expect(service.image, name).toBe(services.worker.image);
        continue;
      }
      expect(service.build, name).toBeUndefined();
      // name:MAJOR.MINOR.PATCH[-variant], or a digest; never latest or a floating major.
      expect(service.image, name).toMatch(/^[\w./-]+(:v?\d+\.\d+\.\d+[\w.-]*|@sha256:[0-9a-f]{64})$/);
    }
  });

  it('gives every service a healthcheck', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck?.disable, name).not.toBe(true);
      expect(service.healthcheck?.test, name).toBeDefined();
    }
  });

  it('checks each app on the HTTP endpoint it serves', () => {
    const probe = (name: string) => JSON.stringify(services[name].healthcheck?.test);
    expect(probe('runflow-sim')).toContain('127.0.0.1:4010/v1/health');
    expect(probe('callback-ingest')).toContain('127.0.0.1:3000/readyz');
    expect(probe('worker')).toContain('127.0.0.1:9464/healthz');
    expect(probe('dashboard')).toContain('127.0.0.1:3100/healthz');
    expect(probe('api')).toContain('127.0.0.1:3200/healthz');
    expect(probe('redis')).toContain('ping');
  });

  it('runs each app by its command, from a package that exists', () => {
    for (const name of APP_SERVICES) {
      const command = services[name].command ?? [];
      const app = appOfCommand(command);
      expect(app, name).toBe(name);
      expect(command[0]).toBe('node');
      // The package exists; its main.ts may still be in the making (dashboard, api).
      expect(existsSync(new URL(APP_MAIN[name as keyof typeof APP_MAIN].replace(/src\/main\.ts$/, ''), root))).toBe(
        true,
      );
    }
  });

  it('runs 3 worker replicas that outlive their own shutdown grace', () => {
    const worker = services.worker;
    expect(worker.deploy?.replicas).toBe(3);
    const env = resolvedEnv('worker');
    const shutdownGraceMs = Number(env.SHUTDOWN_GRACE_MS ?? workerDefaults().shutdownGraceMs);
    const runflowTimeoutMs = Number(env.RUNFLOW_TIMEOUT_MS ?? workerDefaults().runflowTimeoutMs);
    // A submit in flight (≤ RUNFLOW_TIMEOUT_MS) finishes inside the app's grace, and the app's grace
    // ends before compose sends SIGKILL.
    expect(shutdownGraceMs).toBeGreaterThan(runflowTimeoutMs);
    expect(durationMs(worker.stop_grace_period ?? '10s')).toBeGreaterThan(shutdownGraceMs);
  });

  it('puts the simulator under the `sim` profile, started by default through .env.example', () => {
    expect(services['runflow-sim'].profiles).toEqual(['sim']);
    expect(services.prometheus.profiles).toEqual(['observability']);
    expect(services.grafana.profiles).toEqual(['observability']);
    for (const name of ['redis', 'callback-ingest', 'worker', 'dashboard', 'api']) {
      expect(services[name].profiles, name).toBeUndefined();
    }
    expect(dotenv.COMPOSE_PROFILES.split(',')).toContain('sim');
    // Without the profile the workers still start: the dependency on the simulator is optional.
    expect(services.worker.depends_on?.['runflow-sim']).toMatchObject({ required: false });
    expect(services.worker.depends_on?.redis).toMatchObject({ condition: 'service_healthy' });
  });

  it('wires the simulator and the apps to each other with matching keys and secrets', () => {
    const worker = resolvedEnv('worker');
    const ingest = resolvedEnv('callback-ingest');
    const sim = resolvedEnv('runflow-sim');
    expect(worker.RUNFLOW_BASE_URL).toBe(`http://runflow-sim:${sim.SIM_PORT}`);
    expect(sim.SIM_API_KEY.split(',')).toContain(worker.RUNFLOW_API_KEY);
    expect(ingest.CALLBACK_SECRETS.split(',')).toContain(sim.SIM_SIGNING_SECRET);
    expect(worker.CALLBACK_URL).toBe(`http://callback-ingest:${ingest.PORT}/v1/callbacks/runflow`);
    expect(sim.SIM_HOST).toBe('0.0.0.0');
    // The simulator's account limit and the fleet's governor come from one variable.
    expect(sim.SIM_RATE_LIMIT_PER_SECOND).toBe(worker.RUNFLOW_RATE_LIMIT_PER_SECOND);
    for (const name of ['callback-ingest', 'worker', 'dashboard', 'api']) {
      expect(resolvedEnv(name).REDIS_URL, name).toBe('redis://redis:6379');
      expect(resolvedEnv(name).QUEUES, name).toBe(worker.QUEUES);
    }
  });

  it('sets only variables each app reads (its env schema)', async () => {
    for (const name of APP_SERVICES) {
      const app = appOfCommand(services[name].command ?? []);
      if (!app) throw new Error(`${name}: no app command`);
      const known = await appEnv(app);
      const unknown = Object.keys(services[name].environment ?? {}).filter((variable) => !known.names.has(variable));
      expect(unknown, `${name} sets variables its ${known.source} env does not have`).toEqual([]);
    }
  });

  it('gives each app an environment its own validation accepts, with .env.example’s values', async () => {
    for (const name of APP_SERVICES) {
      const app = appOfCommand(services[name].command ?? []);
      if (!app) throw new Error(`${name}: no app command`);
      const { validate } = await appEnv(app);
      if (!validate) continue; // no schema yet (documented names only) or hand-parsed (simulator)
      const result = validate(resolvedEnv(name));
      expect(result.success, `${name}: ${String(result.error)}`).toBe(true);
    }
  });

  it('lists every variable it uses in .env.example, and nothing else', () => {
    const used = referencedVariables(readText('docker-compose.yml'));
    const listed = new Set(Object.keys(dotenv).filter((name) => !name.startsWith('COMPOSE_')));
    expect([...used].filter((name) => !listed.has(name))).toEqual([]);
    expect([...listed].filter((name) => !used.has(name))).toEqual([]);
    // And with it the whole file interpolates: every required (`:?`) variable has a value.
    for (const service of Object.keys(services)) {
      for (const value of Object.values(services[service].environment ?? {})) {
        expect(() => interpolate(String(value), dotenv)).not.toThrow();
      }
    }
  });

  it('mounts a Redis config that never evicts and fsyncs the AOF every second', () => {
    expect(services.redis.volumes).toContain('./infra/redis/redis.conf:/usr/local/etc/redis/redis.conf:ro');
    const conf = readText('infra/redis/redis.conf');
    expect(conf).toMatch(/^maxmemory-policy noeviction$/m);
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(conf).toMatch(/^appendfsync everysec$/m);
  });

  it('scrapes the /metrics of worker, ingest and dashboard (the api has none) and provisions Grafana with Prometheus and the dashboard folder', () => {
    const prometheus = parse(readText('infra/prometheus/prometheus.yml')) as {
      scrape_configs: {
        job_name: string;
        static_configs?: { targets: string[] }[];
        dns_sd_configs?: { names: string[]; port: number }[];
      }[];
    };
    const targets = Object.fromEntries(
      prometheus.scrape_configs.map((job) => [
        job.job_name,
        job.static_configs?.flatMap((c) => c.targets) ??
          job.dns_sd_configs?.flatMap((c) => c.names.map((n) => `${n}:${c.port}`)),
      ]),
    );
    expect(targets).toEqual({
      worker: ['worker:9464'],
      'callback-ingest': ['callback-ingest:3000'],
      dashboard: ['dashboard:3100'],
    });
    expect(services.prometheus.volumes).toContain('./infra/prometheus:/etc/prometheus:ro');

    const datasources = parse(readText('infra/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: { type: string; url: string; uid: string }[];
    };
    expect(datasources.datasources).toEqual([
      expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090', uid: 'prometheus' }),
    ]);
    const provider = parse(readText('infra/grafana/provisioning/dashboards/runflow-queue.yml')) as {
      providers: { options: { path: string } }[];
    };
    const dashboardsMount = services.grafana.volumes?.find((v) => v.startsWith('./infra/grafana/dashboards:'));
    expect(dashboardsMount?.split(':')[1]).toBe(provider.providers[0].options.path);
    expect(services.grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(
      `${provider.providers[0].options.path}/runflow-queue.json`,
    );
  });
});
