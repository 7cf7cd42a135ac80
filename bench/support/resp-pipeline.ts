import { connect, type Socket } from 'node:net';

// A Redis client that costs next to nothing per command, so that Redis — not the client — is what a
// benchmark saturates: commands are encoded as RESP by hand, written a batch at a time, and the batch
// ends with a PING; the reply stream is only scanned for the PONG and for error replies (`-ERR …`),
// never parsed. For load generation only: it assumes no reply holds "\r\n-" or "+PONG" itself.

export type Command = readonly (string | number)[];

export function encode(command: Command): string {
  let out = `*${command.length}\r\n`;
  for (const part of command) {
    const text = String(part);
    out += `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
  }
  return out;
}

const PING = encode(['PING']);
const PONG = '+PONG\r\n';

export interface RespPipeline {
  /** Writes the commands and a PING; resolves when the PONG came back; rejects on an error reply. */
  send(commands: string): Promise<void>;
  close(): void;
}

export async function openPipeline(host: string, port: number): Promise<RespPipeline> {
  const socket: Socket = connect(port, host);
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let tail = '';
  let waiting: { resolve: () => void; reject: (error: Error) => void } | undefined;
  let failure: string | undefined;
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    const text = tail + chunk;
    if (failure === undefined) {
      const at = text.indexOf('\r\n-');
      if (at >= 0) failure = text.slice(at + 2, at + 120);
    }
    tail = text.slice(-16);
    if (text.endsWith(PONG) && waiting) {
      const done = waiting;
      waiting = undefined;
      tail = '';
      if (failure !== undefined) done.reject(new Error(`Redis answered an error: ${failure.split('\r\n')[0]}`));
      else done.resolve();
    }
  });
  socket.on('error', (error) => waiting?.reject(error));
  return {
    send(commands) {
      return new Promise<void>((resolve, reject) => {
        waiting = { resolve, reject };
        socket.write(commands + PING);
      });
    },
    close() {
      socket.destroy();
    },
  };
}
