import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface StartedRedis {
  url: string;
  /** Where it came from: the REDIS_URL given, a testcontainers container, or a spawned redis-server. */
  source: 'env' | 'testcontainers' | 'redis-server';
  /** The server's process id when we spawned it (for CPU and memory measurements). */
  pid?: number | undefined;
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /** Use this URL if set (defaults to process.env.REDIS_URL). */
  url?: string | undefined;
  /** Extra redis-server arguments, e.g. ['--appendonly', 'yes']. */
  args?: string[];
  /** Data directory for a spawned server (default: a fresh temp dir removed on stop). */
  dir?: string;
  port?: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function waitForRedis(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return;
    } catch (error) {
      client.disconnect();
      if (Date.now() > deadline)
        throw new Error(`Redis at ${url} did not answer within ${timeoutMs} ms`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function dockerAnswers(): boolean {
  if (process.env.DOCKER_HOST) return true;
  return existsSync('/var/run/docker.sock');
}

/** Spawns `redis-server` on a free port (or `options.port`) with nothing persisted unless args say so. */
export async function spawnRedisServer(
  options: StartRedisOptions = {},
): Promise<StartedRedis & { process: ChildProcess; port: number; dir: string }> {
  const port = options.port ?? (await freePort());
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'rfq-redis-'));
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...(options.args ?? []),
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => {});
  const url = `redis://127.0.0.1:${port}`;
  try {
    await waitForRedis(url);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(
      'could not start redis-server: install it (apt-get install redis-server), or set REDIS_URL to a Redis you run',
      { cause: error },
    );
  }
  return {
    url,
    port,
    dir,
    process: child,
    pid: child.pid,
    source: 'redis-server',
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A real Redis for tests, the demo and benchmarks: REDIS_URL if given, else testcontainers when a
 * Docker engine answers, else a `redis-server` spawned on a free port.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<StartedRedis> {
  const url = options.url ?? process.env.REDIS_URL;
  if (url) {
    await waitForRedis(url);
    return { url, source: 'env', stop: async () => {} };
  }
  if (dockerAnswers()) {
    try {
      const { GenericContainer } = await import('testcontainers');
      const container = await new GenericContainer('redis:7.4-alpine').withExposedPorts(6379).start();
      const containerUrl = `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
      await waitForRedis(containerUrl);
      return { url: containerUrl, source: 'testcontainers', stop: async () => void (await container.stop()) };
    } catch {
      // No usable engine after all (socket present, daemon down): fall back to the binary.
    }
  }
  return spawnRedisServer(options);
}
