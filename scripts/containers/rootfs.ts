import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { mustRun } from './run-command.ts';

// Debian root file systems for the local base images, made with debootstrap from the mirror this
// host's apt already uses. debootstrap mounts proc and sys inside the tree while it configures
// packages: nothing under a tree is removed while anything is still mounted there.

export function debianMirror(): string {
  const files = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'];
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const uri = /^URIs:\s*(\S+)/m.exec(text)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+\s+main/m.exec(text)?.[1];
    if (uri) return uri;
  }
  throw new Error(`no Debian mirror found in ${files.join(' or ')}; set RFQ_DEBIAN_MIRROR to one`);
}

export interface DebootstrapOptions {
  suite: string;
  mirror: string;
  include: string[];
  /** Downloaded .deb files are kept here and reused. */
  debCache: string;
  onLine: (line: string) => void;
}

export async function debootstrap(target: string, options: DebootstrapOptions): Promise<void> {
  mkdirSync(options.debCache, { recursive: true });
  const include = options.include.length > 0 ? [`--include=${options.include.join(',')}`] : [];
  const seenPhases = new Set<string>();
  try {
    await mustRun(
      'debootstrap',
      ['--variant=minbase', `--cache-dir=${options.debCache}`, ...include, options.suite, target, options.mirror],
      {
        // One line per phase (retrieving, extracting, configuring…), not one per package.
        onLine: (line) => {
          const phase = /^I: (\w+)/.exec(line)?.[1];
          if (phase && !seenPhases.has(phase)) options.onLine(line.slice(3));
          if (phase) seenPhases.add(phase);
        },
        hint: `debootstrap ${options.suite} from ${options.mirror} failed; its log is ${target}/debootstrap/debootstrap.log`,
      },
    );
  } finally {
    await unmountUnder(target);
  }
  // apt's package lists and the .deb files are not part of an image.
  for (const dir of ['var/cache/apt/archives', 'var/lib/apt/lists']) {
    await mustRun('find', [join(target, dir), '-maxdepth', '1', '-type', 'f', '-delete']);
  }
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1])
    .filter((point) => point?.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

async function unmountUnder(dir: string): Promise<void> {
  for (const point of mountsUnder(dir)) await mustRun('umount', ['--lazy', point]);
}

/** Removes a work tree, never across a mount point (a bind-mounted /dev must survive it). */
export async function removeTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  await unmountUnder(dir);
  if (mountsUnder(dir).length > 0) throw new Error(`${dir} still has mounts under it; not removing it`);
  rmSync(dir, { recursive: true, force: true });
}

/** A tar of the tree for `podman import`, without the mount points' contents. */
export async function tarTree(dir: string, tarPath: string): Promise<void> {
  await mustRun('tar', [
    '-C',
    dir,
    '--exclude=./proc/*',
    '--exclude=./sys/*',
    '--exclude=./dev/*',
    '--exclude=./debootstrap',
    '-cf',
    tarPath,
    '.',
  ]);
}

/** A command inside the tree (useradd, chown), as root. */
export function inTree(dir: string, command: string): Promise<string> {
  return mustRun('chroot', [dir, '/bin/sh', '-ec', command]);
}
