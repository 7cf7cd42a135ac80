import { CHECK_LABEL, type ComposePlan, containerName, runArgs, type ServicePlan } from './compose-plan.ts';
import type { Podman } from './podman.ts';

// The compose stack on podman: `up` in dependency order, waiting for `condition: service_healthy`
// the way compose does; `scale`, `stopReplica`, and `down` that keeps the named volumes. Every
// container carries the check's label, so a run that died leaves nothing `removeProject` cannot find.

export interface ContainerState {
  name: string;
  status: string;
  exitCode: number;
  health: string;
}

export class ComposeStack {
  readonly plan: ComposePlan;
  private readonly podman: Podman;
  private readonly log: (line: string) => void;
  /** Replica numbers currently created, per service (compose numbers them from 1). */
  private readonly replicas = new Map<string, number[]>();
  private readonly reportedHealthy = new Map<string, number>();

  constructor(plan: ComposePlan, podman: Podman, log: (line: string) => void) {
    this.plan = plan;
    this.podman = podman;
    this.log = log;
  }

  service(name: string): ServicePlan {
    const service = this.plan.services.find((s) => s.service === name);
    if (!service) throw new Error(`no service ${name} in the plan (not in docker-compose.yml, or its profile is off)`);
    return service;
  }

  running(service: string): string[] {
    return (this.replicas.get(service) ?? []).map((n) => containerName(this.plan.project, service, n));
  }

  /** Network, volumes, then every service at its `deploy.replicas`, each waiting for its dependencies. */
  async up(): Promise<number> {
    const started = Date.now();
    if ((await this.podman.result(['network', 'exists', this.plan.network])).code !== 0) {
      await this.podman(['network', 'create', '--label', `${CHECK_LABEL}=${this.plan.project}`, this.plan.network]);
    }
    for (const volume of this.plan.namedVolumes) {
      if ((await this.podman.result(['volume', 'exists', volume])).code !== 0) {
        await this.podman(['volume', 'create', '--label', `${CHECK_LABEL}=${this.plan.project}`, volume]);
      }
    }
    for (const service of this.plan.services) {
      for (const dependency of service.dependsOn) {
        if (dependency.condition === 'service_healthy') await this.waitHealthy(dependency.service);
      }
      await this.scale(service.service, service.replicas, { wait: false });
    }
    for (const service of this.plan.services) if (service.healthcheck) await this.waitHealthy(service.service);
    return Date.now() - started;
  }

  /** Starts replicas up to `count` (numbering on from the highest, as compose does). */
  async scale(name: string, count: number, options: { wait?: boolean } = {}): Promise<void> {
    const service = this.service(name);
    const numbers = this.replicas.get(name) ?? [];
    this.replicas.set(name, numbers);
    while (numbers.length < count) {
      const replica = Math.max(0, ...numbers) + 1;
      this.log(`up ${containerName(this.plan.project, name, replica)}`);
      await this.podman(runArgs(this.plan, service, replica), {
        hint: `the ${name} container did not start; see the podman error above`,
      });
      numbers.push(replica);
    }
    if (options.wait !== false && service.healthcheck) await this.waitHealthy(name);
  }

  /** `podman stop` (the image's STOPSIGNAL, SIGTERM, then the service's grace); the replica stays down. */
  async stopReplica(name: string, replica: number): Promise<{ exitCode: number; stopMs: number }> {
    const container = containerName(this.plan.project, name, replica);
    const started = Date.now();
    await this.podman(['stop', '--time', String(Math.ceil(this.service(name).stopGraceMs / 1000)), container]);
    const stopMs = Date.now() - started;
    const state = await this.state(container);
    this.replicas.set(
      name,
      (this.replicas.get(name) ?? []).filter((n) => n !== replica),
    );
    await this.podman(['rm', container]);
    return { exitCode: state.exitCode, stopMs };
  }

  async state(container: string): Promise<ContainerState> {
    const out = await this.podman([
      'inspect',
      '--format',
      '{{.State.Status}}|{{.State.ExitCode}}|{{.State.Health.Status}}',
      container,
    ]);
    const [status, exitCode, health] = out.trim().split('|');
    return { name: container, status, exitCode: Number(exitCode), health };
  }

  async logs(container: string, lines = 15): Promise<string> {
    const result = await this.podman.result(['logs', '--tail', String(lines), container]);
    return `${result.stdout}${result.stderr}`.trim();
  }

  /**
   * Runs each replica's healthcheck on the file's interval until it passes; fails, with the container's
   * last log lines, when the container exits or the checks run out (start period + interval × retries).
   */
  async waitHealthy(name: string): Promise<void> {
    const service = this.service(name);
    const check = service.healthcheck;
    if (!check) return;
    const deadline = Date.now() + check.startPeriodMs + check.intervalMs * (check.retries + 1) + check.timeoutMs;
    for (const container of this.running(name)) {
      for (;;) {
        const state = await this.state(container);
        if (state.status === 'exited' || state.status === 'stopped') {
          throw new Error(
            `${container} exited with code ${state.exitCode} before it was healthy; its last lines:\n  ${(await this.logs(container)).split('\n').join('\n  ')}`,
          );
        }
        const probe = await this.podman.result(['healthcheck', 'run', container]);
        if (probe.code === 0) break;
        if (Date.now() > deadline) {
          throw new Error(
            `${container} is not healthy after ${Math.round((check.startPeriodMs + check.intervalMs * check.retries) / 1000)} s (healthcheck ${JSON.stringify(check.test)}: ${(probe.stdout + probe.stderr).trim() || 'failed'}); its last lines:\n  ${(await this.logs(container)).split('\n').join('\n  ')}`,
          );
        }
        // Poll faster than the file's interval: the wait is for the first passing check.
        await new Promise((resolve) => setTimeout(resolve, Math.min(check.intervalMs, 1_000)));
      }
    }
    const count = this.running(name).length;
    if (this.reportedHealthy.get(name) !== count) this.log(`healthy: ${name} (${count})`);
    this.reportedHealthy.set(name, count);
  }

  /** compose down without -v: containers and the network go, named volumes stay. */
  async down(): Promise<void> {
    const containers = [...this.plan.services].reverse().flatMap((s) => this.running(s.service));
    if (containers.length > 0) {
      const grace = Math.max(...this.plan.services.map((s) => s.stopGraceMs));
      await this.podman(['stop', '--time', String(Math.ceil(grace / 1000)), ...containers]);
      await this.podman(['rm', ...containers]);
    }
    this.replicas.clear();
    this.reportedHealthy.clear();
    await this.podman.result(['network', 'rm', this.plan.network]);
  }
}

/** Everything a check project left (containers, network, volumes), whatever state it is in. */
export async function removeProject(podman: Podman, project: string): Promise<void> {
  const filter = `label=${CHECK_LABEL}=${project}`;
  const ids = (await podman.result(['ps', '--all', '--quiet', '--filter', filter])).stdout.split('\n').filter(Boolean);
  if (ids.length > 0) await podman.result(['rm', '--force', '--time', '0', ...ids]);
  await podman.result(['network', 'rm', '--force', `${project}_default`]);
  const volumes = (await podman.result(['volume', 'ls', '--quiet', '--filter', filter])).stdout
    .split('\n')
    .filter(Boolean);
  if (volumes.length > 0) await podman.result(['volume', 'rm', '--force', ...volumes]);
}
