import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { createRedis } from '@runflow-queue/store';
import { Queue, Worker } from 'bullmq';

// MONITOR over a raw socket (a monitoring connection only receives): every line is one command with
// its source — `[db ip:port]` for a client, `[db lua]` for a call made inside a script. A script's
// inner calls follow its EVALSHA line (a script runs atomically), so each is charged to that script,
// named from its SHA: BullMQ's scripts as BullMQ loads them, ours from packages/store/src/lua.

export interface Tally {
  client: number;
  lua: number;
  /** Per command (EVALSHA resolved to its script's name): client commands and calls inside it. */
  byCommand: Map<string, { client: number; lua: number }>;
}

export interface Monitor {
  ready: Promise<void>;
  snapshot(): Tally;
  stop(): Promise<void>;
}

export function startMonitor(url: string, scriptNames: ReadonlyMap<string, string>): Monitor {
  const tally: Tally = { client: 0, lua: 0, byCommand: new Map() };
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port || 6379), hostname);
  let buffered = '';
  let current = '?';
  const entry = (name: string) => {
    let found = tally.byCommand.get(name);
    if (!found) {
      found = { client: 0, lua: 0 };
      tally.byCommand.set(name, found);
    }
    return found;
  };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf('\r\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 2);
      if (line.startsWith('+') && line !== '+OK') {
        const isLua = line.includes(' lua] ');
        const command = /\] "([^"]+)"(?: "([^"]*)")?/.exec(line);
        const name = command?.[1]?.toLowerCase() ?? '?';
        if (isLua) {
          tally.lua += 1;
          entry(current).lua += 1;
        } else {
          tally.client += 1;
          current =
            name === 'evalsha' || name === 'eval'
              ? `script ${scriptNames.get(command?.[2] ?? '') ?? (name === 'eval' ? 'eval' : 'unknown')}`
              : name;
          entry(current).client += 1;
        }
      }
      newline = buffered.indexOf('\r\n');
    }
  });
  const ready = new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write('MONITOR\r\n');
      setTimeout(resolve, 100);
    });
  });
  return {
    ready,
    snapshot: () => ({
      client: tally.client,
      lua: tally.lua,
      byCommand: new Map([...tally.byCommand].map(([name, counts]) => [name, { ...counts }])),
    }),
    async stop() {
      socket.destroy();
    },
  };
}

export function diffTally(a: Tally, b: Tally): Tally {
  const byCommand = new Map<string, { client: number; lua: number }>();
  for (const [name, counts] of b.byCommand) {
    const before = a.byCommand.get(name) ?? { client: 0, lua: 0 };
    const client = counts.client - before.client;
    const lua = counts.lua - before.lua;
    if (client > 0 || lua > 0) byCommand.set(name, { client, lua });
  }
  return { client: b.client - a.client, lua: b.lua - a.lua, byCommand };
}

/**
 * SHA1 → script name of every script a job can run: BullMQ's (loaded by a Queue and a Worker on a
 * throwaway connection, which register them with ioredis) and ours.
 */
export async function scriptNames(url: string): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const connection = createRedis(url, { maxRetriesPerRequest: null });
  const queue = new Queue('script-names', { connection, prefix: 'bench-script-names' });
  const worker = new Worker('script-names', async () => {}, {
    connection,
    prefix: 'bench-script-names',
    autorun: false,
  });
  try {
    await queue.waitUntilReady();
    await worker.waitUntilReady();
    const scripts = (connection as unknown as { scriptsSet: Record<string, { sha: string }> }).scriptsSet;
    for (const [name, script] of Object.entries(scripts)) names.set(script.sha, name);
  } finally {
    await worker.close();
    await queue.close();
    connection.disconnect();
  }
  const dir = new URL('../../packages/store/src/lua/', import.meta.url);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.lua'))) {
    const sha = createHash('sha1')
      .update(readFileSync(new URL(file, dir), 'utf8'))
      .digest('hex');
    names.set(sha, file.replace(/\.lua$/, ''));
  }
  return names;
}
