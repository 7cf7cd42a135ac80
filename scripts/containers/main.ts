import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { baseImages, ensureBaseImages } from './base-images.ts';
import type { CheckReport, StackResult } from './check-report.ts';
import { readComposeFile } from './compose-file.ts';
import { removeProject } from './compose-stack.ts';
import { cacheDir, checkHost, createNetns, deleteNetns, listNetns, writeContainersConf } from './host-setup.ts';
import { dockerfileBaseImages, fullImageName, nodeVersionOf } from './image-names.ts';
import { createPodman, type Podman } from './podman.ts';
import { renderTable } from './render-table.ts';

// `pnpm containers [--json PATH] [--jobs N]`: the deployment for real, with podman. Makes the base
// images (cached), builds infra/Dockerfile, then runs stack-check.ts inside a network namespace of its
// own, where the compose stack's published ports cannot collide with the host's. Prints one table;
// exits 0 only when every check held. Never passes by skipping: a container that cannot start fails it.

const usage = `usage: pnpm containers [--json PATH] [--jobs N (default 60, at least 6)]

Needs root and podman, runc, netavark, aardvark-dns, iptables, debootstrap (Debian packages; .ci/run
installs them). Base images are kept in ${cacheDir()} (RFQ_CACHE_DIR) between runs.`;

const { values } = parseArgs({
  options: {
    json: { type: 'string' },
    jobs: { type: 'string', default: '60' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const jobs = Number(values.jobs);
if (!Number.isInteger(jobs) || jobs < 6) {
  console.error(`--jobs ${values.jobs}: give a whole number of at least 6\n\n${usage}`);
  process.exit(2);
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const started = Date.now();
const log = (line: string) =>
  process.stderr.write(`containers: [${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s] ${line}\n`);

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Namespaces (and their containers) of check runs whose process is gone. */
async function removeStaleRuns(podman: Podman): Promise<void> {
  for (const netns of await listNetns()) {
    const pid = /^rfqcheck(\d+)$/.exec(netns)?.[1];
    if (!pid || pidAlive(Number(pid))) continue;
    log(`removing what a stopped run left: ${netns}`);
    await removeProject(podman.inNetns(netns), netns);
    await deleteNetns(netns);
  }
}

async function build(podman: Podman, image: string): Promise<number> {
  const buildStarted = Date.now();
  log(`build: podman build -f infra/Dockerfile -t ${image} .`);
  await podman(['build', '--pull=never', '-f', 'infra/Dockerfile', '-t', image, '.'], {
    cwd: root,
    onLine: (line) => {
      if (/^(\[\d\/\d\] )?STEP \d+\/\d+/.test(line)) log(`build: ${line}`);
    },
    hint: 'the image did not build; the failing step is above',
  });
  return Date.now() - buildStarted;
}

function runStackCheck(project: string, conf: string, resultPath: string, imageId: string): Promise<number> {
  return new Promise((resolveExit, reject) => {
    const child = spawn(
      'nsenter',
      [
        `--net=/run/netns/${project}`,
        process.execPath,
        join(root, 'scripts/containers/stack-check.ts'),
        '--project',
        project,
        '--root',
        root,
        '--conf',
        conf,
        '--jobs',
        String(jobs),
        '--result',
        resultPath,
        '--started',
        String(started),
        '--image',
        imageId,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    child.on('error', reject);
    child.on('close', (code) => resolveExit(code ?? 1));
  });
}

async function main(): Promise<number> {
  checkHost();
  const cache = cacheDir();
  const conf = writeContainersConf(cache);
  const podman = createPodman(conf);
  await removeStaleRuns(podman);

  const compose = readComposeFile(join(root, 'docker-compose.yml'));
  const node = dockerfileBaseImages(join(root, 'infra/Dockerfile'));
  if (node.length !== 1) throw new Error(`infra/Dockerfile: expected one base image, found ${node.join(', ')}`);
  const imageOf = (service: string) => {
    const image = compose.services[service]?.image;
    if (!image) throw new Error(`docker-compose.yml: service ${service} has no image`);
    return fullImageName(image);
  };
  const baseStarted = Date.now();
  const bases = await ensureBaseImages(
    baseImages({
      node: node[0],
      nodeVersion: nodeVersionOf(node[0]),
      redis: imageOf('redis'),
      prometheus: imageOf('prometheus'),
    }),
    { podman, cacheDir: cache, log },
  );
  const baseImagesMs = Date.now() - baseStarted;

  const image = `localhost/${compose.services.worker.image}`;
  const buildMs = await build(podman, image);
  const [imageId, size] = (await podman(['image', 'inspect', '--format', '{{.Id}} {{.Size}}', image]))
    .trim()
    .split(' ');
  const imageBytes = Number(size);
  log(`image ${image}: ${(imageBytes / 1e6).toFixed(0)} MB, built in ${(buildMs / 1000).toFixed(1)} s`);

  const project = `rfqcheck${process.pid}`;
  const work = mkdtempSync(join(tmpdir(), 'rfq-containers-'));
  const resultPath = join(work, 'stack.json');
  let exit: number;
  let stack: StackResult;
  await createNetns(project);
  try {
    exit = await runStackCheck(project, conf, resultPath, imageId);
    if (!existsSync(resultPath)) {
      throw new Error(`the stack check stopped (exit ${exit}) before it had a result; its error is above`);
    }
    stack = JSON.parse(readFileSync(resultPath, 'utf8')) as StackResult;
  } finally {
    await removeProject(podman.inNetns(project), project);
    await deleteNetns(project);
    rmSync(work, { recursive: true, force: true });
  }
  const report: CheckReport = {
    ...stack,
    ok: exit === 0 && stack.problems.length === 0,
    image,
    imageBytes,
    buildMs,
    baseImagesMs,
    baseImages: bases.map(({ name, source, contents, ms }) => ({ name, source, contents, ms })),
    totalMs: Date.now() - started,
  };
  console.log(renderTable(report));
  if (values.json) {
    mkdirSync(dirname(resolve(values.json)), { recursive: true });
    writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${values.json}`);
  }
  return report.ok ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`containers: FAILED: ${(error as Error).message}`);
  process.exitCode = 1;
}
