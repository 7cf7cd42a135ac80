import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LatencyRangeMs } from '@runflow-queue/runflow-sim';

// The simulator answers in microseconds; Runflow is across the internet. This proxy adds a round trip
// (uniform in [min, max] ms) to every request before passing it on, so a worker's slot is held for a
// realistic time during a submit — which is what makes one worker's throughput finite.

export interface LatencyProxy {
  url: string;
  close(): Promise<void>;
}

export async function startLatencyProxy(targetUrl: string, rttMs: LatencyRangeMs): Promise<LatencyProxy> {
  const target = new URL(targetUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const server = http.createServer((request, response) => {
    const delayMs = rttMs.min + Math.random() * (rttMs.max - rttMs.min);
    setTimeout(() => {
      const upstream = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: request.method,
          path: request.url,
          headers: request.headers,
          agent,
        },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      upstream.on('error', () => {
        if (!response.headersSent) response.writeHead(502);
        response.end();
      });
      request.pipe(upstream);
    }, delayMs);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
