import type { RedisClient } from '@runflow-queue/store';
import type { Stack } from './bench-stack.ts';
import { cpuSeconds } from './cpu-time.ts';

// CPU per job of every process of a stack, for every scenario's summary: the workers and ingest from
// /proc, Redis from its own INFO cpu (used_cpu_sys + used_cpu_user: right for a spawned redis-server
// and for REDIS_URL alike), and the bench process split in two — while it enqueues (the producer) and
// after (the simulator answering runs and sending callbacks). The simulator also answers during the
// enqueue phase, so the producer figure is an upper bound and the simulator's a lower one.

export interface CpuSnapshot {
  worker: number;
  ingest: number;
  redis: number;
  bench: number;
}

/** CPU seconds used so far by each process of the stack (all workers summed). */
export async function cpuSnapshot(stack: Pick<Stack, 'workers' | 'ingest'>, redis: RedisClient): Promise<CpuSnapshot> {
  return {
    worker: stack.workers.reduce((sum, worker) => sum + cpuSeconds(worker.child.pid), 0),
    ingest: cpuSeconds(stack.ingest.child.pid),
    redis: await redisCpuSeconds(redis),
    bench: benchCpuSeconds(),
  };
}

function benchCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** used_cpu_sys + used_cpu_user of the Redis server (seconds). */
export async function redisCpuSeconds(redis: RedisClient): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
  return field('used_cpu_sys') + field('used_cpu_user');
}

export interface CpuPerJob {
  workerCpuMsPerJob: number;
  ingestCpuMsPerJob: number;
  redisCpuMsPerJob: number;
  producerCpuMsPerJob: number;
  simulatorCpuMsPerJob: number;
  totalCpuMsPerJob: number;
}

/**
 * CPU ms per job between `start` and `end`; `enqueued` (taken when the producer finished enqueueing)
 * splits the bench process into producer and simulator.
 */
export function cpuPerJob(
  snapshots: { start: CpuSnapshot; enqueued: CpuSnapshot; end: CpuSnapshot },
  jobs: number,
): CpuPerJob {
  const { start, enqueued, end } = snapshots;
  const perJob = (seconds: number) => round((seconds * 1000) / jobs, 3);
  const result = {
    workerCpuMsPerJob: perJob(end.worker - start.worker),
    ingestCpuMsPerJob: perJob(end.ingest - start.ingest),
    redisCpuMsPerJob: perJob(end.redis - start.redis),
    producerCpuMsPerJob: perJob(enqueued.bench - start.bench),
    simulatorCpuMsPerJob: perJob(end.bench - enqueued.bench),
  };
  const total = Object.values(result).reduce((sum, value) => sum + value, 0);
  return { ...result, totalCpuMsPerJob: round(total, 3) };
}

/** The CPU table's rows: one per process. */
export function cpuRows(cpu: CpuPerJob): { process: string; cpuMsPerJob: number }[] {
  return [
    { process: 'worker', cpuMsPerJob: cpu.workerCpuMsPerJob },
    { process: 'callback-ingest', cpuMsPerJob: cpu.ingestCpuMsPerJob },
    { process: 'Redis (INFO cpu)', cpuMsPerJob: cpu.redisCpuMsPerJob },
    { process: 'producer (bench, enqueue phase)', cpuMsPerJob: cpu.producerCpuMsPerJob },
    { process: 'simulator (bench, after enqueue)', cpuMsPerJob: cpu.simulatorCpuMsPerJob },
    { process: 'all', cpuMsPerJob: cpu.totalCpuMsPerJob },
  ];
}

/** One line for a scenario's notes: CPU ms per job by process. */
export function cpuNote(label: string, cpu: CpuPerJob): string {
  return `${label} CPU ms per job: worker ${cpu.workerCpuMsPerJob}, ingest ${cpu.ingestCpuMsPerJob}, Redis ${cpu.redisCpuMsPerJob}, producer ${cpu.producerCpuMsPerJob}, simulator ${cpu.simulatorCpuMsPerJob} (all ${cpu.totalCpuMsPerJob}).`;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
