import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { startRedisCluster } from '@runflow-queue/testkit';
import { Redis } from 'ioredis';
import type { Row, Scenario } from '../scenario.ts';
import { batchOf, encode, openPipeline, type RespPipeline } from '../support/resp-pipeline.ts';

// Does spreading queues over Redis Cluster masters add capacity? One real 3-master cluster; two trials
// with the same load on 3 queues — their hash tags all on one master, then one queue per master —
// and jobs/s compared (clusterThroughputRatio, 3 masters / 1).
//
// The load must be Redis-bound, or the ratio measures the clients: on 2 cores the full pipeline's
// Node processes cost ~6× Redis's share per job. So each "job" here is the Redis work of one edit job
// on its queue's keys — write the job hash (~700 B of data), store the callback with our
// store-callback-4 script (~700 B payload, clientRef, counters, the look at the job), read the inbox,
// the settle-once marker and four ledger increments, the result, the completed entry and an event —
// then delete what it wrote (the keys are reused batch after batch, so memory stays flat while Redis
// does the whole work every time). Clients write pre-encoded RESP batches and only scan the replies
// (resp-pipeline.ts: each batch encoded once, its reply bytes never decoded), so the client costs a
// small fraction of Redis's time per job: Redis is the bottleneck, as it is for a large fleet whose
// workers scale out but whose Redis does not.

const QUEUES = 3;
const CONNECTIONS_PER_QUEUE = 4;
const JOBS_PER_BATCH = 100;
const WARMUP_MS = 1_000;
const TRIAL_MS = 6_000;

const DATA = JSON.stringify({
  model: 'google/nano-banana-pro/edit',
  input: {
    prompt: 'a typical edit prompt of a few words, with some detail about the light and the colour',
    image_urls: ['https://cdn.example.com/catalog/products/2026/12/000123456.jpg'],
    output_format: 'png',
  },
  enqueuedAt: 1_796_286_938_713,
  step: 'submitted',
  clientRef: 'rq_2a5f0d1d-214a-4e55-b6c1-12f029133520',
  runId: '01a23b0b-7e72-702d-818e-8e1d8ceca5d1',
  submittedAt: 1_796_286_938_813,
  deadlineAt: 1_796_287_838_813,
  transientErrors: 0,
});
const OPTS = JSON.stringify({ attempts: 3, backoff: { type: 'exponential', delay: 2000, jitter: 0.5 }, priority: 1 });
const RESULT = JSON.stringify({
  runId: '01a23b0b-7e72-702d-818e-8e1d8ceca5d1',
  status: 'succeeded',
  outputs: [{ url: 'https://cdn.runflow.io/outputs/01a23b0b-7e72-702d-818e-8e1d8ceca5d1/0.png', type: 'image' }],
  costMicroUsd: 150000,
  completedBy: 'callback',
  timings: { enqueuedAt: 1_796_286_938_713, submittedAt: 1_796_286_938_813, completedAt: 1_796_286_939_116 },
});
const CALLBACK = JSON.stringify({
  receivedAt: 1_796_286_939_085,
  body: JSON.stringify({
    event: 'run.completed',
    run_id: '01a23b0b-7e72-702d-818e-8e1d8ceca5d1',
    status: 'succeeded',
    output: { outputs: [{ url: 'https://cdn.runflow.io/outputs/01a23b0b-7e72-702d-818e-8e1d8ceca5d1/0.png' }] },
    duration_ms: 1234,
    created_at: '2026-12-03T08:35:38.813000+00:00',
    completed_at: '2026-12-03T08:35:39.085000+00:00',
    metadata: { queue: 'edits', jobId: '1', clientRef: 'rq_2a5f0d1d-214a-4e55-b6c1-12f029133520' },
  }),
});

const STORE_CALLBACK = readFileSync(
  new URL('../../packages/store/src/lua/store-callback-4.lua', import.meta.url),
  'utf8',
);

/** One job's Redis work on queue `queue` (tag `{queue}`), job and run ids made from `id`. */
function jobCommands(prefix: string, queue: string, id: string, sha: string): string {
  const tag = `${prefix}:{${queue}}`;
  const job = `${tag}:${queue}:${id}`;
  const inbox = `${tag}:inbox:run-${id}`;
  const ref = `${tag}:ref:rq-${id}`;
  const settled = `${tag}:settled:run-${id}`;
  const ledger = `${tag}:ledger`;
  const field = '2026-12-03|google/nano-banana-pro/edit|-';
  const commands: (string | number)[][] = [
    ['HSET', job, 'name', 'edit', 'data', DATA, 'opts', OPTS, 'timestamp', 1_796_286_938_713, 'priority', 1],
    ['ZADD', `${tag}:${queue}:delayed`, 1_796_287_538_747, id],
    ['EVALSHA', sha, 4, inbox, ref, `${tag}:callbacks`, job, CALLBACK, 86_400, `run-${id}`, '1'],
    ['ZREM', `${tag}:${queue}:delayed`, id],
    ['GET', inbox],
    ['SET', settled, '{"costMicroUsd":150000,"outcome":"completed","source":"price-table"}', 'NX', 'EX', 691_200],
    ['HINCRBY', ledger, `${field}|completed`, 1],
    ['HINCRBY', ledger, `${field}|images`, 1],
    ['HINCRBY', ledger, `${field}|spendMicroUsd`, 150_000],
    ['HINCRBY', ledger, `${field}|by_callback`, 1],
    ['HSET', job, 'returnvalue', RESULT, 'finishedOn', 1_796_286_939_116],
    ['ZADD', `${tag}:${queue}:completed`, 1_796_286_939_116, id],
    ['XADD', `${tag}:${queue}:events`, 'MAXLEN', '~', 10_000, '*', 'event', 'completed', 'jobId', id],
    ['DEL', job, inbox, ref, settled],
    ['ZREM', `${tag}:${queue}:completed`, id],
  ];
  return commands.map(encode).join('');
}

interface Node {
  port: number;
  client: Redis;
}

interface Trial {
  label: string;
  queues: { name: string; port: number }[];
}

async function runTrial(trial: Trial, nodes: Node[], prefix: string, sha: string) {
  const pipelines: { pipeline: RespPipeline; batch: Buffer }[] = [];
  for (const [q, queue] of trial.queues.entries()) {
    for (let c = 0; c < CONNECTIONS_PER_QUEUE; c += 1) {
      const batch = batchOf(
        Array.from({ length: JOBS_PER_BATCH }, (_, k) => jobCommands(prefix, queue.name, `${q}-${c}-${k}`, sha)).join(
          '',
        ),
      );
      pipelines.push({ pipeline: await openPipeline('127.0.0.1', queue.port), batch });
    }
  }
  const cpu = async () => Promise.all(nodes.map(async (node) => redisCpu(await node.client.info('cpu'))));
  let counting = false;
  let jobs = 0;
  let stop = false;
  const loops = pipelines.map(async ({ pipeline, batch }) => {
    while (!stop) {
      await pipeline.send(batch);
      if (counting) jobs += JOBS_PER_BATCH;
    }
  });
  try {
    await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
    const cpuBefore = await cpu();
    const clientBefore = process.cpuUsage();
    const started = performance.now();
    counting = true;
    await new Promise((resolve) => setTimeout(resolve, TRIAL_MS));
    counting = false;
    const seconds = (performance.now() - started) / 1000;
    const cpuAfter = await cpu();
    const client = process.cpuUsage(clientBefore);
    stop = true;
    await Promise.all(loops);
    return {
      jobsPerSecond: jobs / seconds,
      redisCpuPercent: cpuAfter.map((after, i) => Math.round(((after - cpuBefore[i]) / seconds) * 100)),
      clientCpuPercent: Math.round(((client.user + client.system) / 1e6 / seconds) * 100),
      redisCpuMsPerJob: cpuAfter.reduce((sum, after, i) => sum + after - cpuBefore[i], 0) * (1000 / jobs),
    };
  } finally {
    stop = true;
    await Promise.allSettled(loops);
    for (const { pipeline } of pipelines) pipeline.close();
  }
}

function redisCpu(info: string): number {
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
  return field('used_cpu_sys') + field('used_cpu_user');
}

export const cluster: Scenario = {
  name: 'cluster',
  description: 'Redis-bound jobs/s with 3 queues on one Redis Cluster master vs one queue per master (3 masters)',
  async run(context) {
    context.log('cluster: starting a 3-master Redis Cluster');
    const started = await startRedisCluster({ masters: 3 });
    const nodes: Node[] = started.ports.map((port) => ({ port, client: new Redis({ host: '127.0.0.1', port }) }));
    try {
      const prefix = `bench-cluster-${process.pid}`;
      const slots = await nodes[0].client.cluster('SLOTS');
      const ownerOf = async (queue: string) => {
        const slot = Number(await nodes[0].client.cluster('KEYSLOT', `${prefix}:{${queue}}:x`));
        return Number(slots.find(([from, to]) => slot >= from && slot <= to)?.[2]?.[1]);
      };
      // Queue names by where their tag lands: three on the first master, and one on each master.
      const byPort = new Map<number, string[]>();
      for (let i = 0; [...byPort.values()].some((names) => names.length < QUEUES) || byPort.size < 3; i += 1) {
        const name = `queue-${i}`;
        const port = await ownerOf(name);
        byPort.set(port, [...(byPort.get(port) ?? []), name]);
      }
      const [firstPort] = started.ports;
      const oneMaster: Trial = {
        label: '1 master (3 queues on it)',
        queues: (byPort.get(firstPort) ?? []).slice(0, QUEUES).map((name) => ({ name, port: firstPort })),
      };
      const spread: Trial = {
        label: '3 masters (1 queue each)',
        queues: started.ports.map((port) => ({ name: (byPort.get(port) ?? [])[0], port })),
      };
      const shas = await Promise.all(
        nodes.map((node) => node.client.script('LOAD', STORE_CALLBACK) as Promise<string>),
      );
      const loadBefore = loadavg()[0];
      context.log(`cluster: ${oneMaster.label}: ${TRIAL_MS / 1000} s`);
      const one = await runTrial(oneMaster, nodes, prefix, shas[0]);
      context.log(`cluster: ${spread.label}: ${TRIAL_MS / 1000} s`);
      const three = await runTrial(spread, nodes, prefix, shas[0]);
      const clusterThroughputRatio = Math.round((three.jobsPerSecond / one.jobsPerSecond) * 100) / 100;
      // The most three masters can give here: the cores the client leaves them, over one master's share.
      const clusterCeilingRatio =
        Math.round(((context.machine.cpus * 100 - three.clientCpuPercent) / Math.max(...one.redisCpuPercent)) * 100) /
        100;
      const row = (label: string, result: Awaited<ReturnType<typeof runTrial>>, queues: Trial['queues']): Row => ({
        trial: label,
        queues: queues.map((q) => `${q.name}@${q.port}`).join(' '),
        jobsPerSecond: Math.round(result.jobsPerSecond),
        redisCpu: result.redisCpuPercent.map((p) => `${p}%`).join(' / '),
        redisCpuMsPerJob: Math.round(result.redisCpuMsPerJob * 1000) / 1000,
        clientCpu: `${result.clientCpuPercent}%`,
      });
      return {
        params: {
          masters: 3,
          queues: QUEUES,
          connectionsPerQueue: CONNECTIONS_PER_QUEUE,
          jobsPerBatch: JOBS_PER_BATCH,
          trialMs: TRIAL_MS,
          cpus: context.machine.cpus,
        },
        summary: {
          clusterThroughputRatio,
          clusterCeilingRatio,
          oneMasterJobsPerSecond: Math.round(one.jobsPerSecond),
          threeMastersJobsPerSecond: Math.round(three.jobsPerSecond),
          oneMasterRedisCpuPercent: Math.max(...one.redisCpuPercent),
          clientCpuPercentOneMaster: one.clientCpuPercent,
          clientCpuPercentThreeMasters: three.clientCpuPercent,
          // Other work on the machine: above its core count, the masters share the cores it leaves.
          loadAverage1m: Math.round(Math.max(loadBefore, loadavg()[0]) * 100) / 100,
        },
        columns: [
          { key: 'trial', header: 'trial' },
          { key: 'queues', header: 'queues @ master port' },
          { key: 'jobsPerSecond', header: 'jobs/s' },
          { key: 'redisCpu', header: 'Redis CPU per master' },
          { key: 'redisCpuMsPerJob', header: 'Redis CPU ms/job' },
          { key: 'clientCpu', header: 'client CPU' },
        ],
        rows: [row(oneMaster.label, one, oneMaster.queues), row(spread.label, three, spread.queues)],
        notes: [
          `clusterThroughputRatio = ${clusterThroughputRatio} (3 masters / 1 master, same load, same cluster; target ≥ 1.8).`,
          `clusterCeilingRatio = ${clusterCeilingRatio}: the cores left by the client (${context.machine.cpus} × 100 % − ${three.clientCpuPercent} %) over one master's CPU — the most 3 masters can give on this machine.`,
          `Redis-bound: with one master it runs near 100 % of a core while the client uses a fraction of one; on ${context.machine.cpus} cores`,
          'three masters can use at most all of them, so the ceiling is the core count, not 3 — and on a machine busy with other',
          `work (load average ${Math.round(loadBefore * 10) / 10} at the start) the masters only get the share of the cores the scheduler leaves them.`,
          'Each job: the job hash, the callback inbox (store-callback-4), the settle marker and ledger, the result, the completed entry and an event, then cleanup.',
        ],
        problems: Number.isFinite(clusterThroughputRatio) ? [] : ['no jobs were measured'],
      };
    } finally {
      for (const node of nodes) node.client.disconnect();
      await started.stop();
    }
  },
};
