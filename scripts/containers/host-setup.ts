import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { mustRun, runCommand } from './run-command.ts';

// What the host must give the container check: root, rootful podman with runc and netavark, debootstrap
// for the base images, and network namespaces. Nothing here installs a package (.ci/run does, with
// apt-get); a missing tool stops the check and names the package.

const TOOLS: Record<string, string> = {
  podman: 'podman',
  runc: 'runc',
  netavark: 'netavark',
  'aardvark-dns': 'aardvark-dns',
  iptables: 'iptables',
  debootstrap: 'debootstrap',
  nsenter: 'util-linux',
  ip: 'iproute2',
  tar: 'tar',
  npm: 'npm',
};
/** Debian installs netavark and aardvark-dns outside PATH. */
const EXTRA_DIRS = ['/usr/lib/podman', '/usr/libexec/podman'];

export const INSTALL_HINT =
  'as root: apt-get install -y --no-install-recommends podman runc netavark aardvark-dns iptables debootstrap (.ci/run does it)';

function onPath(tool: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_DIRS];
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Throws naming every missing tool and the package that has it. */
export function checkHost(): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the container check needs root (rootful podman, debootstrap, a network namespace); run it as root',
    );
  }
  const missing = Object.keys(TOOLS).filter((tool) => !onPath(tool));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((tool) => TOOLS[tool]))].join(' ');
    throw new Error(`missing on this host: ${missing.join(', ')} (Debian packages: ${packages}); ${INSTALL_HINT}`);
  }
}

/** Where base images and debootstrap's packages are kept between runs: outside the clone. */
export function cacheDir(env: Record<string, string | undefined> = process.env): string {
  if (env.RFQ_CACHE_DIR) return env.RFQ_CACHE_DIR;
  if (process.getuid?.() === 0) return '/var/cache/runflow-queue';
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'runflow-queue');
}

/**
 * The check's containers.conf (podman reads it through CONTAINERS_CONF; /etc/containers is left
 * alone). crun, podman's default runtime, fails on these hosts (hybrid cgroups, setrlimit refused), so
 * runc; containers inherit the host's limits instead of podman's default ulimits; cgroupfs because no
 * systemd runs here; netavark for name resolution between services (aardvark-dns).
 */
export function writeContainersConf(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'containers.conf');
  writeFileSync(
    path,
    [
      '# Written by scripts/containers/host-setup.ts for the container check (CONTAINERS_CONF).',
      '[containers]',
      'default_ulimits = []',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'runtime = "runc"',
      '[network]',
      'network_backend = "netavark"',
      '',
    ].join('\n'),
  );
  return path;
}

/** A network namespace of the check's own, with loopback up: the stack's published ports live there. */
export async function createNetns(name: string): Promise<void> {
  await mustRun('ip', ['netns', 'add', name]);
  await mustRun('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
}

export async function deleteNetns(name: string): Promise<void> {
  await runCommand('ip', ['netns', 'delete', name]);
}

export async function listNetns(): Promise<string[]> {
  const result = await runCommand('ip', ['netns', 'list']);
  return result.stdout
    .split('\n')
    .map((line) => line.split(' ')[0])
    .filter(Boolean);
}
