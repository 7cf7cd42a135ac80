import { isAbsolute, resolve } from 'node:path';
import { type ComposeFile, type ComposeService, durationMs, interpolate } from './compose-file.ts';
import { fullImageName } from './image-names.ts';

// docker-compose.yml, translated service by service into `podman run` arguments, with the same
// interpolation compose does from the env file. Podman's own compose (Debian's podman-compose 1.0.3)
// does not wait for `condition: service_healthy`, scale replicas or keep names stable, so the check
// drives podman itself from the one compose file. A key this translation does not know throws: the
// compose file cannot quietly outgrow it.

const TRANSLATED = new Set([
  'image',
  'build',
  'command',
  'profiles',
  'environment',
  'healthcheck',
  'deploy',
  'depends_on',
  'stop_grace_period',
  'restart',
  'volumes',
  'ports',
]);

export interface Healthcheck {
  test: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
}

export interface ServicePlan {
  service: string;
  image: string;
  build?: { context: string; dockerfile: string };
  command: string[];
  environment: Record<string, string>;
  ports: string[];
  /** `source:target[:ro]`, named volumes already prefixed with the project, bind sources absolute. */
  volumes: string[];
  healthcheck?: Healthcheck;
  replicas: number;
  dependsOn: { service: string; condition: string; required: boolean }[];
  stopGraceMs: number;
  restart?: string;
}

export interface ComposePlan {
  project: string;
  network: string;
  services: ServicePlan[];
  namedVolumes: string[];
}

export interface PlanOptions {
  project: string;
  /** Directory the compose file's relative paths are resolved against (the repository root). */
  projectDir: string;
  env: Record<string, string>;
  /** Profiles on top of the env's COMPOSE_PROFILES. */
  profiles?: string[];
  /** Services left out on purpose (with the reason the caller reports). */
  exclude?: string[];
  /**
   * The image ID the services with `build:` run (what this run built), rather than their tag: another
   * run on the same host may re-tag `runflow-queue:local` meanwhile.
   */
  builtImage?: string;
}

/** Docker's defaults where the file says nothing (30 s interval and timeout, 3 retries). */
function healthcheckOf(name: string, check: ComposeService['healthcheck']): Healthcheck | undefined {
  if (!check || check.disable) return undefined;
  const test = typeof check.test === 'string' ? ['CMD-SHELL', check.test] : check.test;
  if (!test || (test[0] !== 'CMD' && test[0] !== 'CMD-SHELL')) {
    throw new Error(`${name}: healthcheck.test must start with CMD or CMD-SHELL, got ${JSON.stringify(check.test)}`);
  }
  return {
    test,
    intervalMs: durationMs(check.interval ?? '30s'),
    timeoutMs: durationMs(check.timeout ?? '30s'),
    retries: check.retries ?? 3,
    startPeriodMs: durationMs(check.start_period ?? '0s'),
  };
}

function volumeOf(spec: string, options: PlanOptions, named: Set<string>): string {
  const [source, target, mode] = spec.split(':');
  if (!target) throw new Error(`volume ${spec}: only source:target[:mode] is translated`);
  if (source.startsWith('.') || isAbsolute(source)) {
    return [resolve(options.projectDir, source), target, mode].filter(Boolean).join(':');
  }
  if (!named.has(source)) throw new Error(`volume ${spec}: ${source} is not declared under top-level volumes`);
  return [`${options.project}_${source}`, target, mode].filter(Boolean).join(':');
}

export function planCompose(file: ComposeFile, options: PlanOptions): ComposePlan {
  const profiles = new Set([
    ...(options.env.COMPOSE_PROFILES ?? '').split(',').filter(Boolean),
    ...(options.profiles ?? []),
  ]);
  const named = new Set(Object.keys(file.volumes ?? {}));
  const active = Object.entries(file.services).filter(
    ([name, service]) =>
      !options.exclude?.includes(name) && (!service.profiles || service.profiles.some((p) => profiles.has(p))),
  );
  const activeNames = new Set(active.map(([name]) => name));
  const services = active.map(([name, service]): ServicePlan => {
    const unknown = Object.keys(service).filter((key) => !TRANSLATED.has(key));
    if (unknown.length > 0) {
      throw new Error(
        `docker-compose.yml service ${name}: ${unknown.join(', ')} not translated to podman by scripts/containers/compose-plan.ts; add it there`,
      );
    }
    const deployKeys = Object.keys(service.deploy ?? {}).filter((key) => key !== 'replicas');
    if (deployKeys.length > 0) throw new Error(`service ${name}: deploy.${deployKeys[0]} is not translated`);
    if (!service.image) throw new Error(`service ${name}: no image (the check needs a name to build or run)`);
    const environment = Object.fromEntries(
      Object.entries(service.environment ?? {}).map(([key, value]) => {
        try {
          return [key, interpolate(String(value), options.env)];
        } catch (error) {
          throw new Error(`service ${name}: ${(error as Error).message}`);
        }
      }),
    );
    const dependsOn = Object.entries(service.depends_on ?? {}).map(([dependency, spec]) => ({
      service: dependency,
      condition: spec.condition ?? 'service_started',
      required: spec.required ?? true,
    }));
    for (const dependency of dependsOn) {
      if (dependency.required && !activeNames.has(dependency.service)) {
        throw new Error(
          `service ${name} depends on ${dependency.service}, which is not started (profile or exclusion)`,
        );
      }
    }
    return {
      service: name,
      // What compose builds podman tags under localhost/; a pulled name resolves as docker does.
      image: service.build
        ? (options.builtImage ?? (service.image.includes('/') ? service.image : `localhost/${service.image}`))
        : fullImageName(service.image),
      build: service.build,
      command: service.command ?? [],
      environment,
      ports: service.ports ?? [],
      volumes: (service.volumes ?? []).map((spec) => volumeOf(spec, options, named)),
      healthcheck: healthcheckOf(name, service.healthcheck),
      replicas: service.deploy?.replicas ?? 1,
      dependsOn: dependsOn.filter((d) => activeNames.has(d.service)),
      stopGraceMs: durationMs(service.stop_grace_period ?? '10s'),
      restart: service.restart,
    };
  });
  return {
    project: options.project,
    network: `${options.project}_default`,
    services: orderByDependencies(services),
    namedVolumes: [...named].map((volume) => `${options.project}_${volume}`),
  };
}

/** Dependencies first; a cycle throws. */
function orderByDependencies(services: ServicePlan[]): ServicePlan[] {
  const byName = new Map(services.map((s) => [s.service, s]));
  const ordered: ServicePlan[] = [];
  const visiting = new Set<string>();
  const visit = (service: ServicePlan) => {
    if (ordered.includes(service)) return;
    if (visiting.has(service.service)) throw new Error(`depends_on cycle through ${service.service}`);
    visiting.add(service.service);
    for (const dependency of service.dependsOn) visit(byName.get(dependency.service)!);
    visiting.delete(service.service);
    ordered.push(service);
  };
  for (const service of services) visit(service);
  return ordered;
}

/** Compose v2's container names: `<project>-<service>-<n>`. */
export function containerName(project: string, service: string, replica: number): string {
  return `${project}-${service}-${replica}`;
}

export const CHECK_LABEL = 'io.runflow-queue.check';

/** `podman run` arguments for one replica of a service. */
export function runArgs(plan: ComposePlan, service: ServicePlan, replica: number): string[] {
  const args = [
    'run',
    '--detach',
    '--name',
    containerName(plan.project, service.service, replica),
    '--label',
    `${CHECK_LABEL}=${plan.project}`,
    '--label',
    `com.docker.compose.project=${plan.project}`,
    '--label',
    `com.docker.compose.service=${service.service}`,
    '--network',
    plan.network,
    // Other services reach every replica by the service name (one A record each), as with compose.
    '--network-alias',
    service.service,
    '--stop-timeout',
    String(Math.ceil(service.stopGraceMs / 1000)),
    '--pull',
    'never',
  ];
  if (service.restart) args.push('--restart', service.restart);
  for (const [key, value] of Object.entries(service.environment)) args.push('--env', `${key}=${value}`);
  for (const port of service.ports) args.push('--publish', port);
  for (const volume of service.volumes) args.push('--volume', volume);
  if (service.healthcheck) {
    const { timeoutMs, retries, startPeriodMs } = service.healthcheck;
    // No systemd here to run podman's health timers: the check runs `podman healthcheck run` itself, on
    // the file's interval. Podman 4.3 takes the command as one shell string (a JSON array is stored as
    // one word), so CMD's argv is single-quoted into one; /bin/sh is in every image the file runs.
    args.push('--health-cmd', healthShell(service.healthcheck.test), '--health-interval', 'disable');
    args.push('--health-timeout', `${timeoutMs}ms`, '--health-retries', String(retries));
    if (startPeriodMs > 0) args.push('--health-start-period', `${startPeriodMs}ms`);
  }
  args.push(service.image, ...service.command);
  return args;
}

/** ["CMD", argv…] → a shell line running exactly argv; ["CMD-SHELL", line] → line. */
export function healthShell(test: string[]): string {
  const [kind, ...rest] = test;
  if (kind === 'CMD-SHELL') return rest.join(' ');
  return rest.map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ');
}
