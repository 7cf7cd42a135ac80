import { mustRun, type RunOptions, type RunResult, runCommand } from './run-command.ts';

// podman as the check calls it: with the check's own containers.conf (runc, no ulimits: see
// host-setup.ts) and, for everything that touches the stack, inside the check's network namespace, so
// that the containers' bridge, their iptables rules and their published ports never reach the host's.

export interface Podman {
  /** Runs podman; throws a CommandError (command, exit, last lines) unless it exits 0. */
  (args: readonly string[], options?: RunOptions & { hint?: string }): Promise<string>;
  /** Runs podman and returns whatever it exited with. */
  result(args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** The same podman inside the network namespace `name` (`ip netns` name). */
  inNetns(name: string): Podman;
  readonly netns: string | undefined;
}

export function createPodman(containersConf: string, netns?: string): Podman {
  const command = (args: readonly string[]): [string, string[]] =>
    netns ? ['nsenter', [`--net=/run/netns/${netns}`, 'podman', ...args]] : ['podman', [...args]];
  const withConf = <T extends RunOptions>(options: T | undefined): T =>
    ({ ...options, env: { ...options?.env, CONTAINERS_CONF: containersConf } }) as unknown as T;
  const podman = ((args: readonly string[], options?: RunOptions & { hint?: string }) =>
    mustRun(...command(args), withConf(options))) as Podman;
  podman.result = (args, options) => runCommand(...command(args), withConf(options));
  podman.inNetns = (name) => createPodman(containersConf, name);
  Object.defineProperty(podman, 'netns', { value: netns });
  return podman;
}
