import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CALLBACK_PATH } from '@runflow-queue/callback-ingest';
import { type Sim, type SimOptions, startSim } from '@runflow-queue/runflow-sim';
import { type AppProcess, spawnApp } from '@runflow-queue/runtime';
import type { WorkloadsConfigInput } from '@runflow-queue/shared';
import { freePort, spawnRedisServer, uniquePrefix, waitForHttp } from '@runflow-queue/testkit';

// The fleet a chaos run breaks: a redis-server it owns (AOF on, so it can be restarted without losing
// data), the simulator in this process (its billing and runs readable directly), callback-ingest and
// N workers as real processes. Every process can be killed and replaced while the run goes on.

export interface ChaosFleetOptions {
  logDir: string;
  queues: string[];
  workers: number;
  workloads: WorkloadsConfigInput;
  /** Worker variables on top of the fleet's own (timings, lock, grace). */
  workerEnv: Record<string, string>;
  sim: SimOptions;
  /** Every secret ingest trusts; the simulator signs with the first. */
  secrets: string[];
  /** LOG_LEVEL of the spawned apps. */
  logLevel?: string;
}

type SpawnedRedis = Awaited<ReturnType<typeof spawnRedisServer>>;

export interface StoppedProcess {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
}

/** AOF on, fsync every second: what infra/redis.conf runs in production. */
export const REDIS_AOF_ARGS = ['--appendonly', 'yes', '--appendfsync', 'everysec'];

export class ChaosFleet {
  readonly options: ChaosFleetOptions;
  readonly prefix = uniquePrefix('chaos');
  readonly sim: Sim;
  readonly redisDir: string;
  readonly redisPort: number;
  readonly ingestPort: number;
  #redis: SpawnedRedis;
  #ingest: AppProcess | undefined;
  readonly #workers = new Map<number, AppProcess>();
  readonly #starting = new Set<number>();
  #nextWorker = 1;
  /** Workers that exited (killed, crashed) or hung before they had started; each was replaced. */
  workersDiedStarting = 0;
  #workloadsFile: string;

  private constructor(options: ChaosFleetOptions, redis: SpawnedRedis, sim: Sim, ingestPort: number) {
    this.options = options;
    this.#redis = redis;
    this.redisDir = redis.dir;
    this.redisPort = redis.port;
    this.sim = sim;
    this.ingestPort = ingestPort;
    this.#workloadsFile = join(options.logDir, 'workloads.json');
    writeFileSync(this.#workloadsFile, `${JSON.stringify(options.workloads, null, 2)}\n`);
  }

  static async start(options: ChaosFleetOptions): Promise<ChaosFleet> {
    const redisDir = join(options.logDir, 'redis');
    mkdirSync(redisDir, { recursive: true });
    const redis = await spawnRedisServer({ dir: redisDir, args: REDIS_AOF_ARGS });
    const sim = await startSim({ signingSecret: options.secrets[0], ...options.sim });
    const fleet = new ChaosFleet(options, redis, sim, await freePort());
    try {
      await fleet.startIngest();
      await Promise.all(Array.from({ length: options.workers }, () => fleet.startWorker()));
    } catch (error) {
      await fleet.close();
      throw error;
    }
    return fleet;
  }

  get redisUrl(): string {
    return this.#redis.url;
  }

  get callbackUrl(): string {
    return `http://127.0.0.1:${this.ingestPort}${CALLBACK_PATH}`;
  }

  get workerIds(): number[] {
    return [...this.#workers.keys()];
  }

  get ingestUp(): boolean {
    return this.#ingest !== undefined;
  }

  #common(): Record<string, string> {
    return {
      REDIS_URL: this.#redis.url,
      REDIS_PREFIX: this.prefix,
      QUEUES: this.options.queues.join(','),
      LOG_LEVEL: this.options.logLevel ?? 'info',
    };
  }

  async startIngest(): Promise<void> {
    const ingest = spawnApp(
      'callback-ingest',
      {
        ...this.#common(),
        HOST: '127.0.0.1',
        PORT: String(this.ingestPort),
        CALLBACK_SECRETS: this.options.secrets.join(','),
      },
      { logFile: join(this.options.logDir, 'ingest.log'), keepBytes: 64_000 },
    );
    this.#ingest = ingest;
    await waitForHttp(`http://127.0.0.1:${this.ingestPort}/healthz`);
  }

  /** SIGKILL: whatever it was doing is cut off (callbacks in flight get a reset). */
  async killIngest(): Promise<void> {
    const ingest = this.#ingest;
    this.#ingest = undefined;
    if (ingest) await ingest.kill();
  }

  /**
   * Starts a worker and resolves with its id once it has printed "worker started". A worker that dies
   * (or hangs) during its start is a fault to count, not a crash of the run: it is counted in
   * `workersDiedStarting` and replaced, up to 5 times in a row (a worker that cannot start at all,
   * e.g. a config error, still fails the run, naming its log).
   */
  async startWorker(): Promise<number> {
    for (let failures = 0; ; failures += 1) {
      const id = this.#nextWorker++;
      const worker = spawnApp(
        'worker',
        {
          ...this.#common(),
          RUNFLOW_BASE_URL: this.sim.url,
          RUNFLOW_API_KEY: this.sim.apiKey,
          CALLBACK_URL: this.callbackUrl,
          WORKLOADS_FILE: this.#workloadsFile,
          ...this.options.workerEnv,
        },
        { logFile: join(this.options.logDir, `worker-${id}.log`), keepBytes: 64_000 },
      );
      this.#workers.set(id, worker);
      this.#starting.add(id);
      try {
        await worker.waitFor('"msg":"worker started"', 30_000);
        return id;
      } catch (error) {
        this.#workers.delete(id);
        await worker.kill();
        this.workersDiedStarting += 1;
        if (failures >= 4) throw error;
      } finally {
        this.#starting.delete(id);
      }
    }
  }

  /** Workers spawned that have not printed "worker started" yet. */
  get startingWorkerIds(): number[] {
    return [...this.#starting];
  }

  /** SIGKILL one worker (no chance to finish or park anything). */
  async killWorker(id: number): Promise<void> {
    const worker = this.#workers.get(id);
    this.#workers.delete(id);
    if (worker) await worker.kill();
  }

  /** SIGTERM one worker, as a deploy does; resolves with how it exited and how long it took. */
  async drainWorker(id: number): Promise<StoppedProcess> {
    const worker = this.#workers.get(id);
    this.#workers.delete(id);
    if (!worker) return { code: null, signal: null, ms: 0 };
    return terminate(worker);
  }

  /** Stops Redis (SIGTERM: it fsyncs the AOF), waits `downMs`, starts it again on the same port and dir. */
  async restartRedis(downMs: number): Promise<void> {
    await this.#redis.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    this.#redis = await spawnRedisServer({ port: this.redisPort, dir: this.redisDir, args: REDIS_AOF_ARGS });
  }

  /**
   * SIGKILL Redis (no fsync: with appendfsync everysec up to the last second of writes is lost), waits
   * `downMs`, starts it again on the same port and data dir: it reloads the AOF as it was on disk.
   */
  async killRedis(downMs: number): Promise<void> {
    this.#redis.process.kill('SIGKILL');
    await this.#redis.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    this.#redis = await spawnRedisServer({ port: this.redisPort, dir: this.redisDir, args: REDIS_AOF_ARGS });
  }

  /** SIGTERM to every worker at once (the end of a deploy); each exit is measured. */
  async drainAllWorkers(): Promise<StoppedProcess[]> {
    return Promise.all(this.workerIds.map((id) => this.drainWorker(id)));
  }

  async close(): Promise<void> {
    await Promise.all([...this.#workers.values()].map((worker) => worker.stop(5_000)));
    this.#workers.clear();
    if (this.#ingest) await this.#ingest.stop(5_000);
    this.#ingest = undefined;
    await this.sim.close();
    await this.#redis.stop();
    rmSync(this.redisDir, { recursive: true, force: true });
  }
}

/** SIGTERM (SIGKILL after a minute: a worker that ignores its grace would hang the run); how it exited, how long it took. */
async function terminate(proc: AppProcess): Promise<StoppedProcess> {
  const started = Date.now();
  const { code, signal } = await proc.stop(60_000);
  return { code, signal, ms: Date.now() - started };
}
