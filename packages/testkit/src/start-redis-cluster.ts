import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, waitForRedis } from './start-redis.ts';

const run = promisify(execFile);

export interface StartedRedisCluster {
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,…`, what `createRedis` turns into an ioredis Cluster. */
  url: string;
  /** Client ports of the masters, in creation order. */
  ports: number[];
  stop(): Promise<void>;
}

export interface StartRedisClusterOptions {
  /** Masters (default 3, the fewest `redis-cli --cluster create` accepts). No replicas. */
  masters?: number;
  /** How long to wait for `cluster_state:ok` on every node (default 20 s). */
  timeoutMs?: number;
  /** Extra redis-server arguments for every node. */
  args?: string[];
}

interface ClusterNode {
  port: number;
  dir: string;
  process: ChildProcess;
  exited: Promise<void>;
}

/**
 * A real Redis Cluster from `redis-server` binaries: N masters on free ports, each in its own temp dir,
 * joined with `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes`. Tests use it to prove
 * that every multi-key command and Lua script stays inside one hash slot (no CROSSSLOT).
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<StartedRedisCluster> {
  const masters = options.masters ?? 3;
  if (masters < 3) throw new RangeError('a Redis Cluster needs at least 3 masters');
  const nodes: ClusterNode[] = [];
  const stop = async () => {
    for (const node of nodes) if (node.process.exitCode === null) node.process.kill('SIGTERM');
    await Promise.all(nodes.map((node) => node.exited));
    for (const node of nodes) rmSync(node.dir, { recursive: true, force: true });
  };
  try {
    const taken = new Set<number>();
    for (let i = 0; i < masters; i += 1) nodes.push(await spawnClusterNode(options.args ?? [], taken));
    await Promise.all(nodes.map((node) => waitForRedis(`redis://127.0.0.1:${node.port}`)));
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    await Promise.all(nodes.map((node) => waitForClusterOk(node.port, options.timeoutMs ?? 20_000)));
  } catch (error) {
    await stop();
    throw new Error(
      'could not start a Redis Cluster: redis-server and redis-cli (7.0+) must be installed (apt-get install redis-server)',
      { cause: error },
    );
  }
  const ports = nodes.map((node) => node.port);
  return { url: `redis+cluster://${ports.map((port) => `127.0.0.1:${port}`).join(',')}`, ports, stop };
}

/** A free port not handed out before in this cluster (freePort may return a port it just gave). */
async function distinctFreePort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}

async function spawnClusterNode(extraArgs: string[], taken: Set<number>): Promise<ClusterNode> {
  const port = await distinctFreePort(taken);
  // The cluster bus defaults to port + 10000, which may be taken or past 65535: pick it (Redis 7+).
  const busPort = await distinctFreePort(taken);
  const dir = mkdtempSync(join(tmpdir(), 'rfq-redis-cluster-'));
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--cluster-port',
      String(busPort),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
      '--cluster-node-timeout',
      '5000',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...extraArgs,
    ],
    { stdio: 'ignore' },
  );
  child.once('error', () => {});
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { port, dir, process: child, exited };
}

async function waitForClusterOk(port: number, timeoutMs: number): Promise<void> {
  const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, lazyConnect: true });
  client.on('error', () => {});
  const deadline = Date.now() + timeoutMs;
  try {
    await client.connect();
    for (;;) {
      const info = await client.cluster('INFO');
      if (/cluster_state:ok/.test(info)) return;
      if (Date.now() > deadline) throw new Error(`node :${port} not cluster_state:ok after ${timeoutMs} ms:\n${info}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    client.disconnect();
  }
}
