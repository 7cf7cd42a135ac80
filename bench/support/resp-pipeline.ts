import { connect, type Socket } from 'node:net';

// A Redis client that costs next to nothing per command, so that Redis — not the client — is what a
// benchmark saturates: a batch of commands is encoded as RESP once, into a buffer that ends with a
// PING, and written again and again as it is; the reply bytes are never decoded or parsed, only
// scanned for the PONG that ends the batch and for error replies (`-ERR …`). For load generation
// only: it assumes no reply holds "\r\n-" or "+PONG" itself.

export type Command = readonly (string | number)[];

export function encode(command: Command): string {
  let out = `*${command.length}\r\n`;
  for (const part of command) {
    const text = String(part);
    out += `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
  }
  return out;
}

const PONG = Buffer.from('+PONG\r\n');
const ERROR_START = Buffer.from('\r\n-');

/** RESP-encoded commands (`encode(...)` joined) as one batch a pipeline can send: the PING appended. */
export function batchOf(commands: string): Buffer {
  return Buffer.from(commands + encode(['PING']));
}

export interface RespPipeline {
  /** Writes the batch; resolves when its PONG came back; rejects on an error reply. */
  send(batch: Buffer): Promise<void>;
  close(): void;
}

export async function openPipeline(host: string, port: number): Promise<RespPipeline> {
  const socket: Socket = connect(port, host);
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  // The last bytes of the previous chunk: a PONG or an error marker may straddle two chunks, so the
  // seam (those bytes and the chunk's first ones) is looked at apart; the chunk itself is never copied.
  let tail = Buffer.alloc(0);
  let waiting: { resolve: () => void; reject: (error: Error) => void } | undefined;
  let failure: string | undefined;
  socket.on('data', (chunk: Buffer) => {
    const seam = Buffer.concat([tail, chunk.subarray(0, PONG.length)]);
    if (failure === undefined) {
      // A marker that starts in the tail straddles the seam; one that starts in the chunk is found there.
      const inSeam = seam.indexOf(ERROR_START);
      if (inSeam >= 0 && inSeam < tail.length) {
        failure = seam.toString('latin1', inSeam + 2) + chunk.toString('latin1', PONG.length, 120);
      } else {
        const at = chunk.indexOf(ERROR_START);
        if (at >= 0) failure = chunk.toString('latin1', at + 2, at + 120);
      }
    }
    const end = chunk.length >= PONG.length ? chunk : Buffer.concat([tail, chunk]);
    tail = Buffer.from(end.subarray(Math.max(0, end.length - 16)));
    if (waiting && end.length >= PONG.length && end.subarray(end.length - PONG.length).equals(PONG)) {
      const done = waiting;
      waiting = undefined;
      tail = Buffer.alloc(0);
      if (failure !== undefined) done.reject(new Error(`Redis answered an error: ${failure.split('\r\n')[0]}`));
      else done.resolve();
    }
  });
  socket.on('error', (error) => waiting?.reject(error));
  return {
    send(batch) {
      return new Promise<void>((resolve, reject) => {
        waiting = { resolve, reject };
        socket.write(batch);
      });
    },
    close() {
      socket.destroy();
    },
  };
}
