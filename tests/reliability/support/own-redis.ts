import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnRedisServer } from '@runflow-queue/testkit';

type Spawned = Awaited<ReturnType<typeof spawnRedisServer>>;

/** AOF on, fsync every second: a Redis that keeps its data across a restart. */
const AOF = ['--appendonly', 'yes', '--appendfsync', 'everysec'];

/**
 * A redis-server of the test's own (the shared one must not be stopped): same port and data dir
 * across `stop()` / `start()`, so clients reconnect to where they were.
 */
export class OwnRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'rfq-own-redis-'));
  #server: Spawned | undefined;
  #port: number | undefined;

  async start(): Promise<this> {
    this.#server = await spawnRedisServer({ port: this.#port, dir: this.dir, args: AOF });
    this.#port = this.#server.port;
    return this;
  }

  get url(): string {
    if (this.#port === undefined) throw new Error('OwnRedis not started');
    return `redis://127.0.0.1:${this.#port}`;
  }

  /** SIGTERM (Redis fsyncs the AOF first); the port and dir stay reserved for start(). */
  async stop(): Promise<void> {
    await this.#server?.stop();
    this.#server = undefined;
  }

  async restart(downMs: number): Promise<void> {
    await this.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
